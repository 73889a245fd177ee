package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// actionMeta is GitHub's action metadata schema (docs: "Metadata syntax for
// GitHub Actions"), as strict as the schema: an unknown key is an error.
type actionMeta struct {
	Name        string                 `yaml:"name"`
	Author      string                 `yaml:"author"`
	Description string                 `yaml:"description"`
	Inputs      map[string]actionInput `yaml:"inputs"`
	Outputs     map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID               string            `yaml:"id"`
			Name             string            `yaml:"name"`
			If               string            `yaml:"if"`
			Uses             string            `yaml:"uses"`
			With             map[string]any    `yaml:"with"`
			Run              string            `yaml:"run"`
			Shell            string            `yaml:"shell"`
			Env              map[string]string `yaml:"env"`
			WorkingDirectory string            `yaml:"working-directory"`
			ContinueOnError  bool              `yaml:"continue-on-error"`
		} `yaml:"steps"`
	} `yaml:"runs"`
	Branding struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
}

type actionInput struct {
	Description        string `yaml:"description"`
	Required           bool   `yaml:"required"`
	Default            string `yaml:"default"`
	DeprecationMessage string `yaml:"deprecationMessage"`
}

// action.yml holds to the metadata schema's rules for a composite action.
func TestActionMetadata(t *testing.T) {
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m actionMeta
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if m.Name == "" || m.Description == "" {
		t.Error("name and description are required")
	}
	for id, in := range m.Inputs {
		if in.Description == "" || strings.ToLower(id) != id {
			t.Errorf("input %s: a lower-case id with a description is required", id)
		}
	}
	for _, want := range []string{"files", "args", "version", "fail-on", "spamhaus-dqs-key"} {
		if _, ok := m.Inputs[want]; !ok {
			t.Errorf("input %s is missing", want)
		}
	}
	for id, out := range m.Outputs {
		if out.Description == "" || out.Value == "" {
			t.Errorf("output %s: a composite action's output needs a description and a value", id)
		}
	}
	if _, ok := m.Outputs["exit-code"]; !ok {
		t.Error("output exit-code is missing")
	}
	if m.Runs.Using != "composite" || len(m.Runs.Steps) == 0 {
		t.Fatalf("runs: %+v, want a composite action with steps", m.Runs)
	}
	ids := map[string]bool{}
	for i, s := range m.Runs.Steps {
		switch {
		case (s.Run == "") == (s.Uses == ""):
			t.Errorf("step %d: exactly one of run and uses", i)
		case s.Run != "" && s.Shell == "":
			t.Errorf("step %d: a run step of a composite action needs a shell", i)
		case s.Uses != "" && s.Shell != "":
			t.Errorf("step %d: a uses step takes no shell", i)
		}
		if s.ID != "" && ids[s.ID] {
			t.Errorf("step id %s twice", s.ID)
		}
		ids[s.ID] = true
	}
	if !slices.Contains([]string{"white", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark"}, m.Branding.Color) {
		t.Errorf("branding color %q is not one of the schema's", m.Branding.Color)
	}
	for _, script := range []string{"install.sh", "scan.sh"} {
		path := filepath.Join("..", ".github", "action", script)
		if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: missing or not executable", path)
		}
		if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v %s", path, err, out)
		}
	}
}

// The action's scan step, run as GitHub runs it (GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY) against rbldnsd: a newsletter with a listed link fails
// it by default, the exit code is an output, and fail-on changes what fails.
func TestActionScanStep(t *testing.T) {
	w := startWorld(t)
	dir := t.TempDir()
	news := filepath.Join(dir, "news", "2026")
	os.MkdirAll(news, 0o755)
	os.WriteFile(filepath.Join(news, "december.html"), []byte(`<a href="https://www.bad.example/deal">deal</a>`), 0o644)
	os.WriteFile(filepath.Join(dir, "news", "clean.html"), []byte(`<a href="https://justatheory.com/">blog</a>`), 0o644)
	run := func(files, failOn string) (int, string, string, string) {
		t.Helper()
		out, summary := filepath.Join(t.TempDir(), "output"), filepath.Join(t.TempDir(), "summary")
		cmd := exec.Command("bash", "../.github/action/scan.sh")
		cmd.Dir = "."
		cmd.Env = []string{"PATH=/usr/bin:/bin", "NO_COLOR=1", "BLCHECK_DIRECT=never", "BLCHECK_BIN=" + binary, "INPUT_FILES=" + files,
			"INPUT_ARGS=-r " + w.addr + " -l dbl --ns=false" /* rbldnsd serves no NS records */, "INPUT_FAIL_ON=" + failOn, "GITHUB_OUTPUT=" + out,
			"GITHUB_STEP_SUMMARY=" + summary, "GITHUB_ACTIONS=true"}
		var stdout strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stdout
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		o, _ := os.ReadFile(out)
		s, _ := os.ReadFile(summary)
		return code, stdout.String(), string(o), string(s)
	}
	code, stdout, output, summary := run(dir+"/news/**/*.html", "listed")
	if code != 1 || output != "exit-code=1\n" || !strings.Contains(stdout, "::error") || !strings.Contains(summary, "bad.example") {
		t.Errorf("a listed link: step exit %d, output %q, summary %q\n%s", code, output, summary, stdout)
	}
	if code, _, output, _ := run(dir+"/news/**/*.html", "never"); code != 0 || output != "exit-code=1\n" {
		t.Errorf("fail-on never: step exit %d, output %q", code, output)
	}
	if code, stdout, output, _ := run(dir+"/news/clean.html", "listed"); code != 0 || output != "exit-code=0\n" {
		t.Errorf("a clean newsletter: step exit %d, output %q\n%s", code, output, stdout)
	}
	if code, stdout, output, _ := run(dir+"/nothing/*.html", "listed"); code != 2 || output != "exit-code=2\n" || !strings.Contains(stdout, "no file matches") {
		t.Errorf("no file: step exit %d, output %q\n%s", code, output, stdout)
	}
	if code, _, _, _ := run(dir+"/news/clean.html", "sometimes"); code != 2 {
		t.Errorf("a bad fail-on: step exit %d, want 2", code)
	}
}
