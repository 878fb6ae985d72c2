package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Matcher runs a compiled filter on frames read from files, in pure Go
// (golang.org/x/net/bpf's VM).
type Matcher struct {
	vm *bpf.VM
}

// NewMatcher compiles expr for frames read from capture files. Its programs
// are for Ethernet frames: Match rejects frames of any other link type.
// `vlan` is refused: it reads the tag from the Linux kernel's metadata,
// which a live socket has and a file does not.
func NewMatcher(expr string) (*Matcher, error) {
	for _, t := range tokenize(expr) {
		if t == "vlan" {
			return nil, errors.New("filter: vlan works on live captures only (it reads the tag the kernel moved out of the frame)")
		}
	}
	prog, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		return nil, fmt.Errorf("filter: %q compiled to a program the VM cannot run", expr)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		return nil, fmt.Errorf("filter: %v", err)
	}
	return &Matcher{vm: vm}, nil
}

// linkEthernet is LINKTYPE_ETHERNET.
const linkEthernet = 1

// Match reports whether the filter accepts the frame of link type link.
func (m *Matcher) Match(frame []byte, link uint16) bool {
	if link != linkEthernet {
		return false
	}
	n, err := m.vm.Run(frame)
	return err == nil && n > 0
}
