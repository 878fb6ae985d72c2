// Package kafka publishes flow records to a Kafka topic with franz-go: one
// message per flow, the record as a JSON object for value and its flow_id
// for key (so the updates of one flow go to one partition, in order).
//
// Producing never blocks the meter: records are buffered (at most
// Config.Buffer of them) and sent in batches by the client, which retries a
// broker that went away; a record that finds the buffer full, or that the
// client finally gives up on, is counted as lost, not waited for. Close
// flushes what it can within Config.FlushTimeout and reports the counts.
// It is the only package that imports a Kafka client.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/flowmeter/flowmeter/feature"
	"github.com/flowmeter/flowmeter/sink/jsonl"
)

// Config configures a Writer.
type Config struct {
	Brokers      []string
	Topic        string
	Buffer       int           // most records waiting to be sent
	Linger       time.Duration // how long a batch waits to fill
	Delivery     time.Duration // how long a record may take to be delivered before it counts as lost
	FlushTimeout time.Duration // how long Close waits for buffered records

	TLS            bool   // connect with TLS (system roots unless CAFile)
	CAFile         string // PEM CA certificates to trust
	CertFile       string // PEM client certificate (with KeyFile)
	KeyFile        string
	SASL           string // "", "plain", "scram-sha-256" or "scram-sha-512"
	User, Password string // SASL credentials
}

// PasswordEnv is the environment variable that holds the SASL password
// (never in the URL, which a process list shows).
const PasswordEnv = "FLOWMETER_KAFKA_PASSWORD"

// ParseURL reads kafka://BROKER[,BROKER...]/TOPIC[?PARAMS]. The parameters:
// flush_timeout=D (a Go duration, default 10s: how long Close waits for
// the records still buffered); tls=1, ca=FILE, cert=FILE, key=FILE (TLS,
// with a CA and a client certificate; ca or cert imply tls);
// sasl=plain|scram-sha-256|scram-sha-512 and user=NAME, with the password
// in $FLOWMETER_KAFKA_PASSWORD.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "kafka" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return Config{}, fmt.Errorf("%q: want kafka://BROKER[,BROKER...]/TOPIC", s)
	}
	c := Config{Brokers: strings.Split(u.Host, ","), Topic: strings.Trim(u.Path, "/"),
		Buffer: 100000, Linger: 50 * time.Millisecond, Delivery: 30 * time.Second, FlushTimeout: 10 * time.Second}
	for k, v := range u.Query() {
		if err := c.set(k, v[0]); err != nil {
			return Config{}, fmt.Errorf("%q: %v", s, err)
		}
	}
	if c.SASL != "" && (c.User == "" || c.Password == "") {
		return Config{}, fmt.Errorf("%q: sasl needs user=NAME and the password in $%s", s, PasswordEnv)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return Config{}, fmt.Errorf("%q: give cert and key together", s)
	}
	return c, nil
}

// set applies one URL parameter.
func (c *Config) set(k, v string) error {
	switch k {
	case "flush_timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("flush_timeout=%s: want a duration such as 2s", v)
		}
		c.FlushTimeout = d
	case "tls":
		c.TLS = v == "1" || v == "true"
	case "ca":
		c.CAFile, c.TLS = v, true
	case "cert":
		c.CertFile, c.TLS = v, true
	case "key":
		c.KeyFile = v
	case "sasl":
		switch v {
		case "plain", "scram-sha-256", "scram-sha-512":
			c.SASL, c.Password = v, os.Getenv(PasswordEnv)
		default:
			return fmt.Errorf("sasl=%s: want plain, scram-sha-256 or scram-sha-512", v)
		}
	case "user":
		c.User = v
	default:
		return fmt.Errorf("unknown parameter %s (flush_timeout, tls, ca, cert, key, sasl, user)", k)
	}
	return nil
}

// security returns the client options for TLS and SASL.
func (c *Config) security() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if c.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, err
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", c.CAFile)
			}
		}
		if c.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				return nil, err
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch c.SASL {
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.User, Pass: c.Password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Password}.AsSha512Mechanism()))
	}
	return opts, nil
}

// Stats counts what happened to the records.
type Stats struct {
	Written   int64 // handed to Write
	Delivered int64 // acknowledged by a broker
	Dropped   int64 // the buffer was full
	Failed    int64 // the client gave up (after retries, or at Close)
}

// Writer publishes records. Write is not safe for concurrent use; the
// counters are.
type Writer struct {
	cl       *kgo.Client
	cfg      Config
	enc      *jsonl.Encoder
	buf      []byte
	stats    struct{ written, delivered, dropped, failed atomic.Int64 }
	firstErr atomic.Value // string: the first delivery error
	settled  atomic.Bool  // Close has counted every record
}

// NewWriter connects lazily: it does not wait for a broker.
func NewWriter(cfg Config, cols []feature.Column) (*Writer, error) {
	sec, err := cfg.security()
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	cl, err := kgo.NewClient(append(sec,
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.MaxBufferedRecords(cfg.Buffer),
		kgo.ProducerLinger(cfg.Linger),
		kgo.RecordDeliveryTimeout(cfg.Delivery),
		kgo.AllowAutoTopicCreation(),
		// At-least-once is enough for flow records, and without producer IDs
		// the client resumes cleanly with a broker that lost its state.
		kgo.DisableIdempotentWrite(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &Writer{cl: cl, cfg: cfg, enc: jsonl.NewEncoder(cols)}, nil
}

// Write queues one record; it never blocks on the network.
func (w *Writer) Write(r *feature.Record) error {
	w.stats.written.Add(1)
	w.buf = w.enc.Append(w.buf[:0], r)
	key := feature.AppendFlowID(nil, r.ID)
	rec := &kgo.Record{Key: key, Value: append([]byte(nil), w.buf...)}
	w.cl.TryProduce(context.Background(), rec, func(_ *kgo.Record, err error) {
		if w.settled.Load() {
			return // Close already counted it as lost
		}
		switch {
		case err == nil:
			w.stats.delivered.Add(1)
		case errors.Is(err, kgo.ErrMaxBuffered):
			w.stats.dropped.Add(1)
		default:
			if w.stats.failed.Add(1) == 1 {
				w.firstErr.Store(err.Error())
			}
		}
	})
	return nil
}

// Stats returns the counts so far.
func (w *Writer) Stats() Stats {
	return Stats{Written: w.stats.written.Load(), Delivered: w.stats.delivered.Load(),
		Dropped: w.stats.dropped.Load(), Failed: w.stats.failed.Load()}
}

// Lost is the number of records lost so far: dropped on a full buffer or
// not delivered (meter.Lossy).
func (w *Writer) Lost() int64 { return w.stats.dropped.Load() + w.stats.failed.Load() }

// unconfirmed is the number of records whose fate no callback has told.
func (w *Writer) unconfirmed() int64 {
	return w.stats.written.Load() - w.stats.delivered.Load() - w.stats.dropped.Load() - w.stats.failed.Load()
}

// Close waits up to FlushTimeout for the buffered records, then closes the
// client; records still unsent count as failed. It returns an error naming
// the losses, if any.
func (w *Writer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.FlushTimeout)
	defer cancel()
	w.cl.Flush(ctx)
	w.cl.Close() // fails what is left, through the callbacks
	// The callbacks of the records Close failed may still be running: wait
	// for them (briefly), then count any record still unconfirmed as lost.
	for deadline := time.Now().Add(2 * time.Second); w.unconfirmed() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	w.settled.Store(true)
	if n := w.unconfirmed(); n > 0 {
		w.stats.failed.Add(n)
	}
	st := w.Stats()
	if lost := st.Dropped + st.Failed; lost > 0 {
		msg := fmt.Sprintf("kafka %s/%s: %d of %d records lost (%d with the buffer full, %d not delivered)",
			strings.Join(w.cfg.Brokers, ","), w.cfg.Topic, lost, st.Written, st.Dropped, st.Failed)
		if first, _ := w.firstErr.Load().(string); first != "" {
			msg += "; first delivery error: " + first
		}
		return errors.New(msg)
	}
	return nil
}
