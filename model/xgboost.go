package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/flowmeter/flowmeter/feature"
)

// xgbModel is the part of XGBoost's JSON model format (save_model("x.json"))
// that a binary:logistic tree ensemble needs.
type xgbModel struct {
	Learner struct {
		FeatureNames    []string `json:"feature_names"`
		GradientBooster struct {
			Name  string `json:"name"`
			Model struct {
				Trees []struct {
					Left        []int32   `json:"left_children"`
					Right       []int32   `json:"right_children"`
					SplitIndex  []int32   `json:"split_indices"`
					SplitCond   []float64 `json:"split_conditions"`
					DefaultLeft []int     `json:"default_left"`
					SplitType   []int     `json:"split_type"`
				} `json:"trees"`
				TreeInfo []int `json:"tree_info"`
			} `json:"model"`
		} `json:"gradient_booster"`
		Param struct {
			BaseScore string `json:"base_score"`
			NumClass  string `json:"num_class"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
}

// ImportXGBoost converts an XGBoost JSON model (objective binary:logistic,
// gbtree booster, trained on flowmeter's CSV columns so that its feature
// names are ours) into a flowmeter model for schema s, with the given
// threshold. Trees go left when x < split condition, as in XGBoost; the
// meter never produces missing values, so default directions are unused.
func ImportXGBoost(r io.Reader, s *feature.Schema, threshold float64) (*Model, error) {
	var x xgbModel
	if err := json.NewDecoder(r).Decode(&x); err != nil {
		return nil, fmt.Errorf("not an XGBoost JSON model: %w", err)
	}
	l := &x.Learner
	if l.Objective.Name != "binary:logistic" {
		return nil, fmt.Errorf("XGBoost objective %q: only binary:logistic is supported", l.Objective.Name)
	}
	if l.GradientBooster.Name != "gbtree" {
		return nil, fmt.Errorf("XGBoost booster %q: only gbtree is supported", l.GradientBooster.Name)
	}
	if len(l.FeatureNames) == 0 {
		return nil, errors.New("the XGBoost model has no feature names: train it on a DataFrame with flowmeter's column names")
	}
	for _, n := range l.FeatureNames {
		if s.Index(n) < 0 {
			return nil, fmt.Errorf("XGBoost feature %q is not a flowmeter feature (schema with --early %d)", n, s.EarlyN)
		}
	}
	base, err := strconv.ParseFloat(strings.Trim(l.Param.BaseScore, "[]"), 64)
	if err != nil || base <= 0 || base >= 1 {
		return nil, fmt.Errorf("XGBoost base_score %q is not a probability", l.Param.BaseScore)
	}
	ens := &Ensemble{Base: math.Log(base / (1 - base))}
	for ti, t := range l.GradientBooster.Model.Trees {
		n := len(t.Left)
		if len(t.Right) != n || len(t.SplitIndex) != n || len(t.SplitCond) != n {
			return nil, fmt.Errorf("XGBoost tree %d: arrays of different lengths", ti)
		}
		tr := Tree{Feature: make([]int32, n), Threshold: make([]float64, n), Left: t.Left, Right: t.Right, Value: make([]float64, n)}
		for i := 0; i < n; i++ {
			if t.Left[i] == -1 {
				tr.Feature[i] = -1
				tr.Value[i] = t.SplitCond[i] // XGBoost keeps leaf values in split_conditions
				continue
			}
			if len(t.SplitType) > i && t.SplitType[i] != 0 {
				return nil, fmt.Errorf("XGBoost tree %d: categorical splits are not supported", ti)
			}
			tr.Feature[i] = t.SplitIndex[i]
			tr.Threshold[i] = t.SplitCond[i]
		}
		ens.Trees = append(ens.Trees, tr)
	}
	m := &Model{Format: Format, Version: Version, Algorithm: XGBoost, Early: s.EarlyN, SchemaHash: s.Hash(),
		Schema: s.Names(), Inputs: l.FeatureNames, InputMeanings: s.Meanings(l.FeatureNames), Threshold: threshold, Trees: ens,
		Params: Params{"imported_from": "xgboost", "trees": len(ens.Trees)}}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("XGBoost model: %w", err)
	}
	return m, nil
}
