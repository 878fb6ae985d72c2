module github.com/flowmeter/flowmeter

go 1.26.8

require (
	github.com/gopacket/gopacket v1.7.7
	gonum.org/v1/gonum v0.17.0
)

require (
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/tools v0.30.0 // indirect
)
