package jsonl

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/flowmeter/flowmeter/feature"
)

// Decode reads one JSON object written by an Encoder of the native columns
// back into r: its flow_id and, for every feature of schema s, its value
// (r.Values must have s.Len() entries). A feature the object lacks is an
// error naming it.
func Decode(b []byte, s *feature.Schema, r *feature.Record) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("not a JSON flow record: %w", err)
	}
	var id string
	if err := json.Unmarshal(obj["flow_id"], &id); err != nil {
		return fmt.Errorf("flow record without a flow_id: %v", err)
	}
	n, err := strconv.ParseUint(id, 16, 64)
	if err != nil {
		return fmt.Errorf("flow_id %q: %v", id, err)
	}
	r.ID = n
	for i, f := range s.Features {
		v, ok := obj[f.Name]
		if !ok {
			return fmt.Errorf("flow %s: no %s (records must carry the native columns)", id, f.Name)
		}
		if err := json.Unmarshal(v, &r.Values[i]); err != nil {
			return fmt.Errorf("flow %s: %s: %v", id, f.Name, err)
		}
	}
	return nil
}
