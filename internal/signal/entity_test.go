package signal

import (
	"strings"
	"testing"
)

func TestCheckEntity(t *testing.T) {
	f := func(name string, ok bool) {
		t.Helper()
		if err := CheckEntity(name); (err == nil) != ok {
			t.Errorf("CheckEntity(%q) = %v; want ok %v", name, err, ok)
		}
	}
	for _, good := range []string{"checkout", "checkout/checkout-1", "host:10.0.0.1", "host:web-3",
		"ts-order-service", "carts_db", "10.0.0.1:9100", "kube-system/coredns-5d78c9869d-abcde", "a|b", "svc@eu-west-1",
		strings.Repeat("a", MaxEntityLen)} {
		f(good, true)
	}
	for _, bad := range []string{"", "127.0.0.1:9999?$(touch${IFS}pwned)", "-rf", ".hidden", "a b", "a;b", "a`b`",
		"a$b", "a'b", `a"b`, "a\nb", "a{{b}}", "a#b", "a?b", "a&b", "a\\b", "é", strings.Repeat("a", MaxEntityLen+1)} {
		f(bad, false)
	}
}
