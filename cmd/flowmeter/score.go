package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/model"
	"github.com/flowmeter/flowmeter/sink/jsonl"
	"github.com/flowmeter/flowmeter/sink/kafka"
)

func runScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("score --from kafka://BROKERS/FLOWS --to kafka://BROKERS/VERDICTS [flags]",
		"Scores the flow records sensors write to Kafka (JSON, native columns) as a member of a consumer group, and\nwrites {flow_id, score, verdict} to another topic, exactly once. Add members to share the partitions.", stderr)
	var mf modelFlags
	mf.register(fs)
	from := fs.String("from", "", "consume flow records from `kafka://BROKERS/TOPIC` (TLS/SASL parameters as for -o)")
	to := fs.String("to", "", "produce verdicts to `kafka://BROKERS/TOPIC` (the same cluster)")
	group := fs.String("group", "flowmeter-scorers", "consumer `GROUP`: members share the partitions")
	host, _ := os.Hostname()
	id := fs.String("id", fmt.Sprintf("flowmeter-%s-%d", host, os.Getpid()), "this member's transactional `ID` (unique per member; a restarted member may reuse its own)")
	if err := parse(fs, args); err != nil {
		return err
	}
	tc, err := transformConfig(*from, *to, *group, *id)
	if err != nil {
		return err
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	fn, err := scoreFunc(m, mf.threshold)
	if err != nil {
		return err
	}
	n, err := kafka.Transform(ctx, tc, fn)
	fmt.Fprintf(stderr, "flowmeter: scored %d flow records\n", n)
	return err
}

// transformConfig checks --from and --to.
func transformConfig(from, to, group, id string) (kafka.TransformConfig, error) {
	if from == "" || to == "" {
		return kafka.TransformConfig{}, usagef("score: give --from kafka://BROKERS/FLOWS and --to kafka://BROKERS/VERDICTS")
	}
	f, err := kafka.ParseURL(from)
	if err != nil {
		return kafka.TransformConfig{}, usagef("--from: %v", err)
	}
	t, err := kafka.ParseURL(to)
	if err != nil {
		return kafka.TransformConfig{}, usagef("--to: %v", err)
	}
	return kafka.TransformConfig{From: f, To: t, Group: group, TxnID: id}, nil
}

// scoreFunc turns a JSON flow record into its JSON verdict with model m.
func scoreFunc(m *model.Model, threshold float64) (func(key, value []byte) ([]byte, error), error) {
	cl, s, err := model.NewClassifier(m, threshold)
	if err != nil {
		return nil, err
	}
	return func(_, value []byte) ([]byte, error) {
		r := feature.Record{Values: make([]float64, s.Len())}
		if err := jsonl.Decode(value, s, &r); err != nil {
			return nil, err
		}
		cl.Classify(&r)
		return verdictEncoder.Append(nil, &r), nil
	}, nil
}

var verdictEncoder = jsonl.NewEncoder([]feature.Column{{Name: "flow_id", Field: feature.FieldFlowID},
	{Name: "score", Field: feature.FieldScore}, {Name: "verdict", Field: feature.FieldVerdict}})
