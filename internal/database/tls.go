package database

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// build makes a verifying TLS configuration, trusting CAFile when given and
// the system's roots otherwise.
func (t TLSOptions) build() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", t.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
