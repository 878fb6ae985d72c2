package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The systemd unit gives the sensor exactly one capability, CAP_NET_RAW,
// and systemd accepts it (systemd-analyze verify, when installed).
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("../../deploy/flowmeter.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"AmbientCapabilities=CAP_NET_RAW\n", "CapabilityBoundingSet=CAP_NET_RAW\n", "NoNewPrivileges=yes", "DynamicUser=yes",
		"ExecStart=/usr/local/bin/flowmeter live -i %i"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	self, _ := os.Executable() // any executable stands in for the binary
	path := filepath.Join(t.TempDir(), "flowmeter@eth0.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/flowmeter", self)), 0o644)
	if out, err := exec.Command(sa, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The Dockerfile builds a static binary in one stage and copies it alone
// into an empty image; the docs run it with NET_RAW as its one capability.
// (Building it needs a Docker engine, which the project's machines lack.)
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	if strings.Count(df, "\nFROM ") < 2 || !strings.Contains(df, "CGO_ENABLED=0 go build") || !strings.Contains(df, "FROM scratch") ||
		!strings.Contains(df, `ENTRYPOINT ["/flowmeter"]`) {
		t.Errorf("Dockerfile is not a multi-stage static build into scratch:\n%s", df)
	}
	doc, _ := os.ReadFile("../../docs/deploy.md")
	if !strings.Contains(string(doc), "--cap-drop ALL --cap-add NET_RAW") {
		t.Error("docs/deploy.md does not run the image with NET_RAW alone")
	}
}
