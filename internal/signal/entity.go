package signal

import (
	"fmt"
	"strings"
)

// MaxEntityLen bounds an entity's name.
const MaxEntityLen = 253

// CheckEntity reports a name that is not a valid entity: 1 to 253 ASCII
// letters, digits and . _ : / | @ -, beginning with a letter or a digit.
// That covers services, instances (checkout/checkout-1), hosts
// (host:10.0.0.1) and Kubernetes names, and nothing a shell, a URL or a
// template would read as syntax: an entity is an outside string that ends
// up in runbooks, so the grammar is kept conservative.
func CheckEntity(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the entity is empty")
	case len(name) > MaxEntityLen:
		return fmt.Errorf("the entity is %d bytes long, over %d", len(name), MaxEntityLen)
	case !alnum(name[0]):
		return fmt.Errorf("the entity %q must begin with a letter or a digit", clip(name))
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !alnum(c) && !entityPunct(c) {
			return fmt.Errorf("the entity %q has %q at byte %d; an entity is letters, digits and . _ : / | @ -", clip(name), c, i)
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

func entityPunct(c byte) bool {
	switch c {
	case '.', '_', ':', '/', '|', '@', '-':
		return true
	}
	return false
}

// clip shortens a name quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// AttrHostName is the label or attribute that names the host a signal's
// instance runs on (OpenTelemetry's resource attribute host.name).
const AttrHostName = "host.name"

// HostEntity is the entity name of a host: "host:<name>".
func HostEntity(name string) string {
	if strings.HasPrefix(name, "host:") {
		return name
	}
	return "host:" + name
}
