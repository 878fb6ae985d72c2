package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// flagLine matches a flag in a command's -h text ("  -name type").
var flagLine = regexp.MustCompile(`^  -([a-z0-9-]+)`)

// commandFlags lists the flags of a command from its own -h text, so that
// completion never drifts from the flag sets.
func commandFlags(name string) []string {
	var help bytes.Buffer
	run(context.Background(), []string{name, "-h"}, io.Discard, &help)
	var flags []string
	for _, l := range strings.Split(help.String(), "\n") {
		if m := flagLine.FindStringSubmatch(l); m != nil {
			dashes := "--"
			if len(m[1]) == 1 {
				dashes = "-"
			}
			flags = append(flags, dashes+m[1])
		}
	}
	return flags
}

func runCompletion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "bash" && args[0] != "zsh" {
		return usagef("completion: say bash or zsh (then: source <(flowmeter completion bash))")
	}
	var cases strings.Builder
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
		if c.name != "completion" {
			fmt.Fprintf(&cases, "\t\t%s) flags=%q ;;\n", c.name, strings.Join(commandFlags(c.name), " "))
		}
	}
	script := fmt.Sprintf(`# flowmeter completion (%[1]s): source <(flowmeter completion %[1]s)
_flowmeter() {
	local cur=${COMP_WORDS[COMP_CWORD]} flags=""
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W %[2]q -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
%[3]s	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
`, args[0], strings.Join(names, " "), cases.String())
	if args[0] == "zsh" {
		script += "autoload -U +X bashcompinit && bashcompinit\n"
	}
	_, err := io.WriteString(stdout, script+"complete -F _flowmeter flowmeter\n")
	return err
}
