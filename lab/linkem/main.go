//go:build linux

// Command linkem joins two network interfaces through a userspace link with
// delay, jitter and loss: what `tc qdisc ... netem` would do on a kernel
// that has sch_netem, which the lab's machines lack. It reads every frame
// that arrives on one interface (AF_PACKET, raw) and sends it out of the
// other after the one-way delay, in order, unless the loss draw drops it.
//
//	linkem -a IF1 -b IF2 [-delay 20ms] [-jitter 5ms] [-loss 0.01] [-seed N]
//
// The lab (lab/run.sh --link) runs it in the switch namespace between a
// host's veth and the bridge, so every packet to or from that host crosses
// it, both ways, and the capture on the bridge sees the delayed link as a
// sensor in front of the host's network would. Linux only; needs root.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const ethPAll = 0x0003

// htons for the protocol field of AF_PACKET sockets.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

type link struct {
	delay, jitter time.Duration
	loss          float64
	rng           *rand.Rand
}

func open(name string) (int, int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, 0, err
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPAll)))
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", name, err)
	}
	sa := &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifi.Index}
	if err := syscall.Bind(fd, sa); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", name, err)
	}
	return fd, ifi.Index, nil
}

type frame struct {
	at  time.Time
	buf []byte
}

// pump forwards frames from fd `in` to fd `out` (interface index outIdx).
func (l link) pump(in, out, outIdx int) {
	q := make(chan frame, 1<<16)
	go func() {
		to := &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: outIdx}
		for f := range q {
			if d := time.Until(f.at); d > 0 {
				time.Sleep(d)
			}
			_ = syscall.Sendto(out, f.buf, 0, to) // a full queue on the far side drops, as a link does
		}
	}()
	var last time.Time
	buf := make([]byte, 65536)
	for {
		n, from, err := syscall.Recvfrom(in, buf, 0)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fmt.Fprintln(os.Stderr, "linkem:", err)
			os.Exit(1)
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue // what we sent ourselves
		}
		if l.loss > 0 && l.rng.Float64() < l.loss {
			continue
		}
		at := time.Now().Add(l.delay)
		if l.jitter > 0 {
			at = at.Add(time.Duration(l.rng.Int64N(int64(2*l.jitter))) - l.jitter)
		}
		if at.Before(last) {
			at = last // jitter never reorders: a link is a queue
		}
		last = at
		select {
		case q <- frame{at, append([]byte(nil), buf[:n]...)}:
		default: // queue full: the link drops
		}
	}
}

func main() {
	a := flag.String("a", "", "first interface")
	b := flag.String("b", "", "second interface")
	delay := flag.Duration("delay", 0, "one-way delay, each direction")
	jitter := flag.Duration("jitter", 0, "uniform jitter ± this, never reordering")
	loss := flag.Float64("loss", 0, "share of frames dropped, each direction (0-1)")
	seed := flag.Uint64("seed", 1, "seed of the loss and jitter draws")
	flag.Parse()
	if *a == "" || *b == "" || *loss < 0 || *loss >= 1 || *delay < 0 || *jitter < 0 {
		fmt.Fprintln(os.Stderr, "usage: linkem -a IF1 -b IF2 [-delay D] [-jitter D] [-loss P in [0,1)] [-seed N]")
		os.Exit(2)
	}
	fa, ia, err := open(*a)
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkem:", err)
		os.Exit(1)
	}
	fb, ib, err := open(*b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkem:", err)
		os.Exit(1)
	}
	mk := func(s uint64) link { return link{*delay, *jitter, *loss, rand.New(rand.NewPCG(*seed, s))} }
	go mk(1).pump(fa, fb, ib)
	go mk(2).pump(fb, fa, ia)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
