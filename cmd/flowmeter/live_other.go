//go:build !linux

package main

import (
	"errors"

	"golang.org/x/net/bpf"

	"github.com/flowmeter/flowmeter/capture"
)

func openLive(iface string, prog []bpf.RawInstruction, promisc bool, workers int) ([]capture.Source, func() liveStats, error, func(), error) {
	return nil, nil, nil, nil, errors.New("live capture needs Linux (AF_PACKET)")
}
