package kubernetes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/exporter"
	"go.yaml.in/yaml/v3"
)

type obj = map[string]any

// manifests reads every document of every *.yaml here, by "Kind/name".
func manifests(t *testing.T) (map[string]obj, map[string][]byte) {
	t.Helper()
	paths, err := filepath.Glob("*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	docs, raw := map[string]obj{}, map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		raw[p] = b
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o obj
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			key := fmt.Sprint(o["kind"], "/", get(t, o, "metadata", "name"))
			if _, dup := docs[key]; dup {
				t.Fatalf("%s: %s twice", p, key)
			}
			docs[key] = o
		}
	}
	return docs, raw
}

// get walks o by keys (a number indexes a list) and fails the test if a step is missing.
func get(t *testing.T, o any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := o.(obj)
			if !ok || m[k] == nil {
				t.Fatalf("no %q in %v", k, o)
			}
			o = m[k]
		case int:
			l, ok := o.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("no item %d in %v", k, o)
			}
			o = l[k]
		}
	}
	return o
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// checkSweep checks one Indexed Job spec: N completions, and every pod running
// --shard $(JOB_COMPLETION_INDEX)/N with jsonl on stdout, so the N shards
// together are the whole sweep, each target in one of them.
func checkSweep(t *testing.T, spec any) {
	t.Helper()
	if m := get(t, spec, "completionMode"); m != "Indexed" {
		t.Errorf("completionMode %v, want Indexed", m)
	}
	n := get(t, spec, "completions").(int)
	if p := get(t, spec, "parallelism").(int); p < 1 || p > n {
		t.Errorf("parallelism %d for %d completions", p, n)
	}
	pod := get(t, spec, "template", "spec")
	if rp := get(t, pod, "restartPolicy"); rp != "Never" {
		t.Errorf("restartPolicy %v: a shard's pod must not restart in place (its index is retried)", rp)
	}
	c := get(t, pod, "containers", 0)
	args := strs(t, get(t, c, "args"))
	shard, ok := flagValue(args, "--shard")
	if want := fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", n); !ok || shard != want {
		t.Fatalf("--shard %q, want %q (completions is %d)", shard, want, n)
	}
	for i := 0; i < n; i++ {
		sh, err := dnsbl.ParseShard(strings.Replace(shard, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i), 1))
		if err != nil || sh.Index != i || sh.Count != n {
			t.Errorf("index %d: --shard %q reads as %+v, %v", i, shard, sh, err)
		}
	}
	if f, _ := flagValue(args, "-o"); f != "jsonl" {
		if f, _ = flagValue(args, "--format"); f != "jsonl" {
			t.Errorf("args %v: want -o jsonl on stdout", args)
		}
	}
	var env []string
	for _, e := range get(t, c, "env").([]any) {
		env = append(env, fmt.Sprint(e.(obj)["name"]))
	}
	if !slices.Contains(env, "JOB_COMPLETION_INDEX") {
		t.Errorf("env %v: $(JOB_COMPLETION_INDEX) is expanded from the container's env", env)
	}
}

func TestSweepShards(t *testing.T) {
	docs, _ := manifests(t)
	job, cron := docs["Job/blcheck-sweep"], docs["CronJob/blcheck-sweep"]
	if job == nil || cron == nil {
		t.Fatalf("want Job and CronJob blcheck-sweep, have %v", slices.Collect(keys(docs)))
	}
	t.Run("Job", func(t *testing.T) { checkSweep(t, get(t, job, "spec")) })
	t.Run("CronJob", func(t *testing.T) { checkSweep(t, get(t, cron, "spec", "jobTemplate", "spec")) })
}

func keys(m map[string]obj) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// The exporter: Prometheus's hashmod spreads the targets over exactly the
// StatefulSet's replicas, each addressed by its stable name on the headless
// Service; the ServiceMonitor finds that Service; the config mounted is the one
// --config names, and blcheck serve accepts it.
func TestServeHashmod(t *testing.T) {
	docs, raw := manifests(t)
	sts, svc, sm, sc := docs["StatefulSet/blcheck"], docs["Service/blcheck"], docs["ServiceMonitor/blcheck"], docs["ScrapeConfig/blcheck-probes"]
	if sts == nil || svc == nil || sm == nil || sc == nil {
		t.Fatalf("want StatefulSet, Service, ServiceMonitor blcheck and ScrapeConfig blcheck-probes, have %v", slices.Collect(keys(docs)))
	}
	replicas := get(t, sts, "spec", "replicas").(int)
	ns := get(t, sts, "metadata", "namespace")
	svcName := get(t, sts, "spec", "serviceName")
	if svcName != get(t, svc, "metadata", "name") || get(t, svc, "spec", "clusterIP") != "None" {
		t.Errorf("the StatefulSet's serviceName %v must be the headless Service", svcName)
	}
	port := get(t, svc, "spec", "ports", 0, "port").(int)
	var mod int
	var replacement string
	for _, r := range get(t, sc, "spec", "relabelings").([]any) {
		r := r.(obj)
		if strings.EqualFold(fmt.Sprint(r["action"]), "hashmod") {
			mod = r["modulus"].(int)
		}
		if r["targetLabel"] == "__address__" {
			replacement = fmt.Sprint(r["replacement"])
		}
	}
	if mod != replicas {
		t.Errorf("hashmod modulus %d, StatefulSet replicas %d: some replicas get no probes, or probes go to none", mod, replicas)
	}
	if want := fmt.Sprintf("%v-${1}.%v.%v.svc:%d", get(t, sts, "metadata", "name"), svcName, ns, port); replacement != want {
		t.Errorf("probes go to %q, want %q", replacement, want)
	}
	// the same modulus in the plain prometheus.yml shown in the comment
	for _, m := range regexp.MustCompile(`modulus: (\d+)`).FindAllSubmatch(raw["scrapeconfig.yaml"], -1) {
		if string(m[1]) != strconv.Itoa(replicas) {
			t.Errorf("scrapeconfig.yaml has modulus: %s, replicas are %d", m[1], replicas)
		}
	}
	checkSelectors(t, sts, svc, sm)
	checkServeConfig(t, docs, get(t, sts, "spec", "template", "spec"))
}

func checkSelectors(t *testing.T, sts, svc, sm obj) {
	t.Helper()
	pod := get(t, sts, "spec", "template", "metadata", "labels").(obj)
	for k, v := range get(t, svc, "spec", "selector").(obj) {
		if pod[k] != v {
			t.Errorf("the Service selects %s=%v, the pods are labelled %v", k, v, pod)
		}
	}
	labels := get(t, svc, "metadata", "labels").(obj)
	for k, v := range get(t, sm, "spec", "selector", "matchLabels").(obj) {
		if labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v, the Service is labelled %v", k, v, labels)
		}
	}
	if p, want := get(t, sm, "spec", "endpoints", 0, "port"), get(t, svc, "spec", "ports", 0, "name"); p != want {
		t.Errorf("the ServiceMonitor scrapes port %v, the Service's is %v", p, want)
	}
}

func checkServeConfig(t *testing.T, docs map[string]obj, pod any) {
	t.Helper()
	c := get(t, pod, "containers", 0)
	args := strs(t, get(t, c, "args"))
	if args[0] != "serve" {
		t.Fatalf("args %v: want serve", args)
	}
	path, _ := flagValue(args, "--config")
	mount := get(t, c, "volumeMounts", 0)
	vol := get(t, pod, "volumes", 0)
	if get(t, mount, "name") != get(t, vol, "name") {
		t.Fatalf("mount %v is not volume %v", mount, vol)
	}
	cm := docs["ConfigMap/"+fmt.Sprint(get(t, vol, "configMap", "name"))]
	data, _ := get(t, cm, "data").(obj)[filepath.Base(path)].(string)
	if filepath.Dir(path) != get(t, mount, "mountPath") || data == "" {
		t.Fatalf("--config %s is not a key of the ConfigMap mounted at %v", path, get(t, mount, "mountPath"))
	}
	if _, err := exporter.ParseConfig([]byte(data), catalog.Default(), func(string) string { return "" }); err != nil {
		t.Errorf("blcheck serve refuses the ConfigMap's %s: %v", path, err)
	}
}

// The Prometheus Operator's Probe (../prometheus/probe.yml) puts the target in
// the instance label; the shipped alerts and dashboard say which target is
// listed by the target label, as prometheus.yml and scrapeconfig.yaml set it.
// Without it an alert read " is on a DNS blacklist".
func TestProbeSetsTargetLabel(t *testing.T) {
	b, err := os.ReadFile("../prometheus/probe.yml")
	if err != nil {
		t.Fatal(err)
	}
	var probe obj
	if err := yaml.Unmarshal(b, &probe); err != nil {
		t.Fatal(err)
	}
	relabels, _ := get(t, probe, "spec", "targets", "staticConfig").(obj)["relabelingConfigs"].([]any)
	for _, r := range relabels {
		r, _ := r.(obj)
		if fmt.Sprint(r["sourceLabels"]) == "[instance]" && r["targetLabel"] == "target" && (r["action"] == nil || r["action"] == "replace") {
			return
		}
	}
	t.Errorf("probe.yml does not copy instance (the target, as the Operator sets it) to the target label: %v", relabels)
}
