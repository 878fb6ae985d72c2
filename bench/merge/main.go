// Command merge writes the packets of many captures (files or folders, gzip
// or not) into one pcap, in timestamp order (a k-way merge; ties keep the
// inputs' order). bench/run.sh uses it to make its real-traffic capture from
// a lab run.
//
//	go run ./bench/merge -o bench/out/real.pcap LABDIR...
package main

import (
	"container/heap"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flowmeter/flowmeter/capture"
)

type input struct {
	f    *capture.File
	data []byte
	info capture.Info
	i    int
}

type queue []*input

func (q queue) Len() int { return len(q) }
func (q queue) Less(a, b int) bool {
	if q[a].info.Time != q[b].info.Time {
		return q[a].info.Time < q[b].info.Time
	}
	return q[a].i < q[b].i
}
func (q queue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*input)) }
func (q *queue) Pop() any     { old := *q; x := old[len(old)-1]; *q = old[:len(old)-1]; return x }

// next reads in's next packet into a buffer of its own (the reader's is
// reused); false at the end of the file.
func (in *input) next() (bool, error) {
	d, info, err := in.f.ReadPacket()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	in.data, in.info = append(in.data[:0], d...), info
	return true, nil
}

func main() {
	out := flag.String("o", "", "output pcap `file`")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: merge -o OUT.pcap CAPTURE|DIR...")
		os.Exit(2)
	}
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "merge:", err)
		os.Exit(1)
	}
}

func run(out string, args []string) error {
	paths, _, err := capture.Expand(args)
	if err != nil {
		return err
	}
	var q queue
	for i, p := range paths {
		f, err := capture.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		in := &input{f: f, i: i}
		ok, err := in.next()
		if err != nil {
			return err
		}
		if ok {
			q = append(q, in)
		}
	}
	heap.Init(&q)
	w, err := capture.Create(out)
	if err != nil {
		return err
	}
	var n int64
	for q.Len() > 0 {
		in := q[0]
		if err := w.WritePacket(in.data, in.info); err != nil {
			w.Close()
			return err
		}
		n++
		ok, err := in.next()
		if err != nil {
			w.Close()
			return err
		}
		if ok {
			heap.Fix(&q, 0)
		} else {
			heap.Pop(&q)
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "merge: %d captures, %d packets written, %d of another link type skipped, to %s\n", len(paths), n-w.Skipped(), w.Skipped(), out)
	return nil
}
