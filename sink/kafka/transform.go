package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TransformConfig is a consume-transform-produce loop: records from one
// topic, each turned into a record of another, by a consumer group.
type TransformConfig struct {
	From, To Config // the brokers and topics (From's security applies to both)
	Group    string // the consumer group: add members to share the partitions
	TxnID    string // this member's transactional ID (unique per member)
}

// Transform consumes From.Topic as a member of Group and produces, for
// every record, fn's value under the same key to To.Topic, exactly once:
// the output records and the consumed offsets commit in one transaction,
// so a member that dies or restarts mid-batch leaves no duplicate and no
// gap (readers of To.Topic must read committed records only, as Kafka's
// read_committed isolation). It runs until ctx is done and returns the
// number of records it committed. fn's error ends the loop.
func Transform(ctx context.Context, tc TransformConfig, fn func(key, value []byte) ([]byte, error)) (int64, error) {
	sec, err := tc.From.security()
	if err != nil {
		return 0, err
	}
	sess, err := kgo.NewGroupTransactSession(append(sec,
		kgo.SeedBrokers(tc.From.Brokers...),
		kgo.ConsumerGroup(tc.Group),
		kgo.ConsumeTopics(tc.From.Topic),
		kgo.DefaultProduceTopic(tc.To.Topic),
		kgo.TransactionalID(tc.TxnID),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)...)
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	var done atomic.Int64
	for ctx.Err() == nil {
		fetches := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return done.Load(), fmt.Errorf("kafka %s: %v", tc.From.Topic, errs[0].Err)
		}
		if err := sess.Begin(); err != nil {
			return done.Load(), err
		}
		n, ferr := produceAll(ctx, sess, fetches, fn)
		commit := kgo.TransactionEndTry(ferr == nil)
		committed, err := sess.End(ctx, commit)
		if ferr != nil {
			return done.Load(), ferr
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return done.Load(), err
		}
		if committed {
			done.Add(n)
		}
	}
	return done.Load(), nil
}

// produceAll produces fn's output for every fetched record.
func produceAll(ctx context.Context, sess *kgo.GroupTransactSession, fetches kgo.Fetches, fn func(key, value []byte) ([]byte, error)) (int64, error) {
	var n int64
	var ferr error
	fetches.EachRecord(func(r *kgo.Record) {
		if ferr != nil {
			return
		}
		v, err := fn(r.Key, r.Value)
		if err != nil {
			ferr = fmt.Errorf("record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			return
		}
		sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: v}, nil)
		n++
	})
	return n, ferr
}
