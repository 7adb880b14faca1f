package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Errors of a request that is refused.
var (
	ErrNoToken   = errors.New("no valid bearer token")
	ErrForbidden = errors.New("the token's role does not allow this")
)

// Authenticator checks requests' bearer tokens. The nil *Authenticator is
// authentication off: every request passes as Anonymous.
type Authenticator struct {
	byHash map[string]Token
}

// New builds an authenticator of tokens; with none it refuses every request
// that needs a permission.
func New(tokens []Token) *Authenticator {
	a := &Authenticator{byHash: make(map[string]Token, len(tokens))}
	for _, t := range tokens {
		a.byHash[t.SHA256] = t
	}
	return a
}

// Check authenticates the value of an Authorization header and authorises
// it for p.
func (a *Authenticator) Check(authorization string, p Permission) (Identity, error) {
	if a == nil {
		return Identity{Name: Anonymous, Role: RoleAdmin}, nil
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		if p == None {
			return Identity{Name: Anonymous}, nil
		}
		return Identity{}, ErrNoToken
	}
	// Looked up by hash: the timing of a map lookup can tell at most how
	// much of a hash matched, which gives nothing away about a token.
	t, found := a.byHash[Hash(token)]
	if !found {
		return Identity{}, ErrNoToken
	}
	id := Identity{Name: t.Name, Role: t.Role}
	if !t.Role.Allows(p) {
		return id, fmt.Errorf("%w: token %q has role %s, which does not grant %s", ErrForbidden, t.Name, t.Role, p)
	}
	return id, nil
}

// Require wraps h: the request must carry a token granting p, and h sees
// its identity in the request's context. A refusal is answered as JSON:
// 401 without a valid token, 403 with one that does not grant p.
func (a *Authenticator) Require(p Permission, h http.Handler) http.Handler {
	if a == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Check(r.Header.Get("Authorization"), p)
		if err != nil {
			Refuse(w, err, p)
			return
		}
		h.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// Refuse answers a refusal from Check.
func Refuse(w http.ResponseWriter, err error, p Permission) {
	code, msg := http.StatusForbidden, err.Error()
	if errors.Is(err, ErrNoToken) {
		code = http.StatusUnauthorized
		msg = fmt.Sprintf("this needs a bearer token with the %s permission: send Authorization: Bearer TOKEN (make one with `seer token new --role %s`)", p, roleFor(p))
		w.Header().Set("WWW-Authenticate", `Bearer realm="seer"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{\"error\":%q}\n", msg)
}

// roleFor is the narrowest role granting p.
func roleFor(p Permission) Role {
	for _, r := range []Role{RoleRead, RoleIngest, RoleOperate, RoleAdmin} {
		if r.Allows(p) {
			return r
		}
	}
	return RoleAdmin
}

// UnaryInterceptor checks the gRPC metadata "authorization" for p before
// the handler runs (OTLP exporters send headers as metadata).
func (a *Authenticator) UnaryInterceptor(p Permission) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var authz string
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get("authorization"); len(v) > 0 {
				authz = v[0]
			}
		}
		id, err := a.Check(authz, p)
		switch {
		case errors.Is(err, ErrNoToken):
			return nil, status.Errorf(codes.Unauthenticated, "this needs a bearer token with the %s permission in the authorization header", p)
		case err != nil:
			return nil, status.Error(codes.PermissionDenied, err.Error())
		}
		return handler(WithIdentity(ctx, id), req)
	}
}
