package bounce

import (
	"strings"
	"testing"
)

// The rejection's sender address comes first, then the sending domain; the
// receiver's own domain and server are never checked.
func TestChooseTargets(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.receiver.example\r\nTo: alice@sender.example\r\nSubject: Undelivered Mail\r\n\r\n" +
		"<bob@receiver.example>: host mx.receiver.example[198.51.100.25] said: 550 5.7.1 Service unavailable;\r\n" +
		"Client host [192.0.2.25] blocked using zen.spamhaus.org\r\n"
	rep, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := ChooseTargets(rep, Classify(rep, nil), nil)
	var inputs []string
	for _, tg := range got.Targets {
		inputs = append(inputs, tg.Input)
	}
	if len(inputs) == 0 || inputs[0] != "192.0.2.25" {
		t.Fatalf("targets %v: want the client address first", inputs)
	}
	for _, in := range inputs {
		if strings.Contains(in, "receiver.example") || in == "198.51.100.25" {
			t.Errorf("the receiver is checked: %v", inputs)
		}
	}
	if why := got.Origin[0]; len(why) == 0 || why[0] != "the address your mail came from" {
		t.Errorf("origin %v", got.Origin)
	}
}
