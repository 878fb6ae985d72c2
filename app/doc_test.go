package app_test

import (
	"os"
	"strings"
	"testing"

	"github.com/flowmeter/flowmeter/app"
)

// ColumnTable is the column table of docs/app.md, made from app.Fields.
func columnTable() string {
	var b strings.Builder
	b.WriteString("| column | kind | meaning |\n|---|---|---|\n")
	for _, f := range app.Fields {
		kind := "text"
		if f.Numeric {
			kind = "number"
		}
		b.WriteString("| `" + f.Name + "` | " + kind + " | " + f.Meaning + " |\n")
	}
	return b.String()
}

// TestDocTable checks that docs/app.md lists every column as app.Fields
// describes it.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/app.md")
	if err != nil {
		t.Fatal(err)
	}
	if table := columnTable(); !strings.Contains(string(doc), table) {
		t.Errorf("docs/app.md does not hold the column table of app.Fields; it should read:\n%s", table)
	}
}
