package lint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// staticcheckPath finds staticcheck on PATH or in the Go bin folder.
func staticcheckPath() string {
	if p, err := exec.LookPath("staticcheck"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "staticcheck")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// The tree is staticcheck-clean: no deprecated API (parquet-go's Writer
// was), no unused code (a Kafka field was), no simplifiable call.
func TestStaticcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("short: not running staticcheck")
	}
	sc := staticcheckPath()
	if sc == "" {
		t.Skip("staticcheck is not installed (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)")
	}
	cmd := exec.Command(sc, "./...")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("staticcheck ./...: %v\n%s", err, out)
	}
}

// Every Go file is gofmt-formatted.
func TestGofmt(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go env")
	}
	gofmt := filepath.Join(strings.TrimSpace(string(out)), "bin", "gofmt")
	cmd := exec.Command(gofmt, "-l", ".")
	cmd.Dir = "../.."
	list, err := cmd.Output()
	if err != nil {
		t.Skipf("gofmt: %v", err)
	}
	if files := strings.TrimSpace(string(list)); files != "" {
		t.Errorf("not gofmt-formatted (gofmt -w them):\n%s", files)
	}
}
