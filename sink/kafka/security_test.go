package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/flowmeter/flowmeter/sink/kafka"
)

// testCA makes a CA and a server certificate for 127.0.0.1; it writes the
// CA's PEM to dir and returns its path and the server's TLS config.
func testCA(t *testing.T, dir string) (string, *tls.Config) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flowmeter test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPath := filepath.Join(dir, "ca.pem")
	os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	return caPath, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}}
}

// The Kafka output reaches a broker that wants TLS and SASL (PLAIN and
// SCRAM), with the password from the environment, never the URL; without
// the CA or the password it loses every record loudly.
func TestTLSAndSASL(t *testing.T) {
	dir := t.TempDir()
	caPath, serverTLS := testCA(t, dir)
	for _, mech := range []struct{ name, url string }{{"PLAIN", "plain"}, {"SCRAM-SHA-256", "scram-sha-256"}, {"SCRAM-SHA-512", "scram-sha-512"}} {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "flows"), kfake.TLS(serverTLS),
			kfake.EnableSASL(), kfake.Superuser(mech.name, "sensor", "s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		addr := c.ListenAddrs()[0]
		t.Setenv(kafka.PasswordEnv, "s3cret")
		cfg, err := kafka.ParseURL("kafka://" + addr + "/flows?ca=" + caPath + "&sasl=" + mech.url + "&user=sensor")
		if err != nil {
			t.Fatal(err)
		}
		w, err := kafka.NewWriter(cfg, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50; i++ {
			w.Write(record(i))
		}
		if err := w.Close(); err != nil || w.Stats().Delivered != 50 {
			t.Fatalf("%s: %v, %+v", mech.name, err, w.Stats())
		}
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(caPath)
		pool.AppendCertsFromPEM(pem)
		var sasl kgo.Opt
		switch mech.url {
		case "plain":
			sasl = kgo.SASL(plain.Auth{User: "sensor", Pass: "s3cret"}.AsMechanism())
		case "scram-sha-256":
			sasl = kgo.SASL(scram.Auth{User: "sensor", Pass: "s3cret"}.AsSha256Mechanism())
		default:
			sasl = kgo.SASL(scram.Auth{User: "sensor", Pass: "s3cret"}.AsSha512Mechanism())
		}
		cl, _ := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}), sasl,
			kgo.ConsumeTopics("flows"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		n := 0
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for n < 50 && ctx.Err() == nil {
			n += cl.PollFetches(ctx).NumRecords()
		}
		cancel()
		cl.Close()
		if n != 50 {
			t.Errorf("%s: consumed %d of 50", mech.name, n)
		}
		// a wrong password: every record lost, and said
		t.Setenv(kafka.PasswordEnv, "wrong")
		bad, _ := kafka.ParseURL("kafka://" + addr + "/flows?ca=" + caPath + "&sasl=" + mech.url + "&user=sensor&flush_timeout=500ms")
		wb, _ := kafka.NewWriter(bad, cols)
		wb.Write(record(1))
		if err := wb.Close(); err == nil || !strings.Contains(err.Error(), "1 of 1 records lost") {
			t.Errorf("%s with a wrong password: %v", mech.name, err)
		}
		c.Close()
	}
	t.Setenv(kafka.PasswordEnv, "")
	if _, err := kafka.ParseURL("kafka://h:9092/flows?sasl=plain&user=u"); err == nil {
		t.Error("sasl without a password accepted")
	}
	if _, err := kafka.ParseURL("kafka://h:9092/flows?password=x"); err == nil {
		t.Error("a password in the URL accepted")
	}
}
