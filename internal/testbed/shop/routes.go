package shop

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// routes registers the service's own API.
func (s *service) routes(mux *http.ServeMux) {
	h := func(pattern string, f handler) { s.handle(mux, pattern, f) }
	switch s.opt.Name {
	case "frontend":
		h("GET /{$}", s.pass("gateway", "GET", "/api/products", "/api/products"))
		h("GET /product/{id}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "gateway", "GET", "/api/products/"+r.PathValue("id"), "/api/products/{id}")
		})
		h("POST /cart/{user}/add/{id}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "gateway", "POST", "/api/cart/"+r.PathValue("user")+"/items/"+r.PathValue("id"), "/api/cart/{user}/items/{id}")
		})
		h("POST /checkout/{user}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "gateway", "POST", "/api/checkout/"+r.PathValue("user"), "/api/checkout/{user}")
		})
	case "gateway":
		h("GET /api/products", s.pass("catalog", "GET", "/products", "/products"))
		h("GET /api/products/{id}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "catalog", "GET", "/products/"+r.PathValue("id"), "/products/{id}")
		})
		h("POST /api/cart/{user}/items/{id}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "cart", "POST", "/cart/"+r.PathValue("user")+"/items/"+r.PathValue("id"), "/cart/{user}/items/{id}")
		})
		h("POST /api/checkout/{user}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "checkout", "POST", "/checkout/"+r.PathValue("user"), "/checkout/{user}")
		})
	case "catalog":
		h("GET /products", func(ctx context.Context, _ *http.Request) ([]byte, error) {
			return s.cached(ctx, "products", "/products", "/products")
		})
		h("GET /products/{id}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			id := r.PathValue("id")
			return s.cached(ctx, "product:"+id, "/products/"+id, "/products/{id}")
		})
	case "cart":
		h("POST /cart/{user}/items/{id}", s.addToCart)
		h("GET /cart/{user}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			b, st, err := s.call(ctx, "cache", "GET", "/kv/cart:"+r.PathValue("user"), "/kv/{key}", nil)
			if st == http.StatusNotFound {
				return []byte("[]"), nil
			}
			if err != nil {
				return nil, upstream(st, err)
			}
			return b, nil
		})
		h("DELETE /cart/{user}", func(ctx context.Context, r *http.Request) ([]byte, error) {
			return s.fwd(ctx, "cache", "DELETE", "/kv/cart:"+r.PathValue("user"), "/kv/{key}")
		})
	case "checkout":
		h("POST /checkout/{user}", s.checkout)
	case "payment":
		h("POST /charge", s.charge)
	case "db":
		s.dbRoutes(h)
	case "cache":
		s.cacheRoutes(h)
	case "queue":
		s.queueRoutes(h)
	}
}

// fwd calls a peer and answers what it answered.
func (s *service) fwd(ctx context.Context, peer, method, path, route string) ([]byte, error) {
	b, st, err := s.call(ctx, peer, method, path, route, nil)
	if err != nil || st >= 400 {
		if err == nil {
			err = fmt.Errorf("%s answered %d", peer, st)
		}
		return nil, upstream(st, err)
	}
	return b, nil
}

func (s *service) pass(peer, method, path, route string) handler {
	return func(ctx context.Context, _ *http.Request) ([]byte, error) {
		return s.fwd(ctx, peer, method, path, route)
	}
}

// cached reads key from the cache, or from the database and fills the cache.
func (s *service) cached(ctx context.Context, key, dbPath, dbRoute string) ([]byte, error) {
	b, st, err := s.call(ctx, "cache", "GET", "/kv/"+key, "/kv/{key}", nil)
	if err == nil && st == http.StatusOK {
		return b, nil
	}
	if err != nil {
		// A cache that fails is worked around, and said so.
		s.tel.log(ctx, otellog.SeverityWarn, fmt.Sprintf("cache read failed, reading the database: %v", err))
	}
	b, err = s.fwd(ctx, "db", "GET", dbPath, dbRoute)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.call(ctx, "cache", "PUT", "/kv/"+key, "/kv/{key}", b); err != nil {
		s.tel.log(ctx, otellog.SeverityWarn, fmt.Sprintf("cache write failed: %v", err))
	}
	return b, nil
}

func (s *service) addToCart(ctx context.Context, r *http.Request) ([]byte, error) {
	user, id := r.PathValue("user"), r.PathValue("id")
	var items []string
	b, st, err := s.call(ctx, "cache", "GET", "/kv/cart:"+user, "/kv/{key}", nil)
	switch {
	case err != nil:
		return nil, upstream(st, err)
	case st == http.StatusOK:
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, fail(http.StatusInternalServerError, "cart of %s is corrupt: %v", user, err)
		}
	}
	items = append(items, id)
	b, _ = json.Marshal(items)
	if _, st, err := s.call(ctx, "cache", "PUT", "/kv/cart:"+user, "/kv/{key}", b); err != nil {
		return nil, upstream(st, err)
	}
	return b, nil
}

func (s *service) checkout(ctx context.Context, r *http.Request) ([]byte, error) {
	user := r.PathValue("user")
	b, st, err := s.call(ctx, "cart", "GET", "/cart/"+user, "/cart/{user}", nil)
	if err != nil {
		return nil, upstream(st, err)
	}
	var items []string
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fail(http.StatusBadGateway, "cart answered %q: %v", b, err)
	}
	if len(items) == 0 {
		return nil, fail(http.StatusBadRequest, "the cart of %s is empty", user)
	}
	amount := 0
	for _, it := range items {
		n, _ := strconv.Atoi(it)
		amount += 100 + n%50
	}
	order, _ := json.Marshal(map[string]any{"user": user, "amount": amount, "items": len(items)})
	if _, st, err := s.call(ctx, "payment", "POST", "/charge", "/charge", order); err != nil {
		return nil, upstream(st, err)
	}
	b, st, err = s.call(ctx, "db", "POST", "/orders", "/orders", order)
	if err != nil {
		return nil, upstream(st, err)
	}
	if _, st, err := s.call(ctx, "queue", "POST", "/publish", "/publish", b); err != nil {
		return nil, upstream(st, err)
	}
	if _, st, err := s.call(ctx, "cart", "DELETE", "/cart/"+user, "/cart/{user}", nil); err != nil {
		return nil, upstream(st, err)
	}
	s.tel.log(ctx, otellog.SeverityInfo, fmt.Sprintf("order placed for %s: %d items, amount %d", user, len(items), amount))
	return b, nil
}

// charge does the payment's work (hashing, as a signature would) and
// appends it to the ledger in the data directory.
func (s *service) charge(ctx context.Context, r *http.Request) ([]byte, error) {
	var order map[string]any
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&order); err != nil {
		return nil, fail(http.StatusBadRequest, "bad order: %v", err)
	}
	sum := sha256.Sum256([]byte(fmt.Sprint(order)))
	for range 2000 {
		sum = sha256.Sum256(sum[:])
	}
	line := fmt.Sprintf("%s charge %v %x\n", time.Now().UTC().Format(time.RFC3339Nano), order["amount"], sum[:8])
	if err := s.faults.write("ledger", []byte(line)); err != nil {
		return nil, fail(http.StatusInsufficientStorage, "writing the ledger: %v", err)
	}
	return []byte(`{"charged":true}`), nil
}

// ship is the shipping worker: it takes orders off the queue and marks
// them shipped in the database, a trace per batch.
func (s *service) ship(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		func() {
			sctx, span := s.tel.tracer.Start(ctx, "poll orders", trace.WithSpanKind(trace.SpanKindServer))
			start := time.Now()
			defer func() {
				span.End()
				s.tel.duration.Record(sctx, time.Since(start).Seconds())
			}()
			b, _, err := s.call(sctx, "queue", "POST", "/consume?max=20", "/consume", nil)
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
				s.tel.log(sctx, otellog.SeverityError, fmt.Sprintf("polling the queue: %v", err))
				return
			}
			var msgs []json.RawMessage
			json.Unmarshal(b, &msgs)
			span.SetAttributes(attribute.Int("messages", len(msgs)))
			for _, m := range msgs {
				var o struct {
					ID int64 `json:"id"`
				}
				if json.Unmarshal(m, &o) != nil || o.ID == 0 {
					continue
				}
				if _, _, err := s.call(sctx, "db", "POST", "/orders/"+strconv.FormatInt(o.ID, 10)+"/ship", "/orders/{id}/ship", nil); err != nil {
					span.SetStatus(codes.Error, err.Error())
					s.tel.log(sctx, otellog.SeverityError, fmt.Sprintf("shipping order %d: %v", o.ID, err))
				}
			}
		}()
	}
}
