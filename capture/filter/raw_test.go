package filter

import (
	"testing"

	"golang.org/x/net/bpf"
)

func TestParseRaw(t *testing.T) {
	text := "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n"
	prog, err := ParseRaw(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []bpf.RawInstruction{{Op: 0x28, K: 12}, {Op: 0x15, Jf: 1, K: 0x800}, {Op: 6, K: 0x40000}, {Op: 6}}
	if len(prog) != len(want) {
		t.Fatalf("%d instructions", len(prog))
	}
	for i := range want {
		if prog[i] != want[i] {
			t.Errorf("instruction %d: %+v, want %+v", i, prog[i], want[i])
		}
	}
	// an IPv4-only program accepts an IPv4 frame and rejects ARP
	vm, err := bpf.NewVM(mustDisassemble(t, prog))
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 60)
	frame[12], frame[13] = 0x08, 0x00
	if n, _ := vm.Run(frame); n == 0 {
		t.Error("IPv4 frame rejected")
	}
	frame[13] = 0x06
	if n, _ := vm.Run(frame); n != 0 {
		t.Error("ARP frame accepted")
	}
	for _, bad := range []string{"", "{ 0x28, 0, 0 }", "{ 0x15, 300, 0, 1 }", "hello"} {
		if _, err := ParseRaw(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func mustDisassemble(t *testing.T, raw []bpf.RawInstruction) []bpf.Instruction {
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("cannot disassemble")
	}
	return ins
}
