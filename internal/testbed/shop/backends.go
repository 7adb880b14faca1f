package shop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// store is the database service's SQLite file.
type store struct{ db *sql.DB }

func openStore(path string) (*store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL, created INTEGER NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("creating the schema: %w", err)
		}
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM products`).Scan(&n)
	for i := n + 1; i <= 100; i++ {
		if _, err := db.Exec(`INSERT INTO products (id, name, price) VALUES (?, ?, ?)`, i, fmt.Sprintf("product %d", i), 100+i%50); err != nil {
			db.Close()
			return nil, fmt.Errorf("seeding the products: %w", err)
		}
	}
	return &store{db: db}, nil
}

func (st *store) close() error { return st.db.Close() }

func (s *service) dbRoutes(h func(pattern string, f handler)) {
	h("GET /products", func(ctx context.Context, _ *http.Request) ([]byte, error) {
		rows, err := s.store.db.QueryContext(ctx, `SELECT id, name, price FROM products ORDER BY id LIMIT 20`)
		if err != nil {
			return nil, fail(http.StatusInternalServerError, "query failed: %v", err)
		}
		defer rows.Close()
		type product struct {
			ID    int    `json:"id"`
			Name  string `json:"name"`
			Price int    `json:"price"`
		}
		var out []product
		for rows.Next() {
			var p product
			if err := rows.Scan(&p.ID, &p.Name, &p.Price); err != nil {
				return nil, fail(http.StatusInternalServerError, "scanning: %v", err)
			}
			out = append(out, p)
		}
		return json.Marshal(out)
	})
	h("GET /products/{id}", func(ctx context.Context, r *http.Request) ([]byte, error) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			return nil, fail(http.StatusBadRequest, "product id %q is not a number", r.PathValue("id"))
		}
		var name string
		var price int
		err = s.store.db.QueryRowContext(ctx, `SELECT name, price FROM products WHERE id = ?`, id).Scan(&name, &price)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, fail(http.StatusNotFound, "no product %d", id)
		case err != nil:
			return nil, fail(http.StatusInternalServerError, "query failed: %v", err)
		}
		return json.Marshal(map[string]any{"id": id, "name": name, "price": price})
	})
	h("POST /orders", func(ctx context.Context, r *http.Request) ([]byte, error) {
		var o struct {
			User   string `json:"user"`
			Amount int    `json:"amount"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&o); err != nil {
			return nil, fail(http.StatusBadRequest, "bad order: %v", err)
		}
		if err := s.faults.diskFull(); err != nil {
			return nil, fail(http.StatusInsufficientStorage, "inserting the order: %v", err)
		}
		res, err := s.store.db.ExecContext(ctx, `INSERT INTO orders (user, amount, status, created) VALUES (?, ?, 'paid', ?)`, o.User, o.Amount, time.Now().Unix())
		if err != nil {
			return nil, fail(http.StatusInternalServerError, "inserting the order: %v", err)
		}
		id, _ := res.LastInsertId()
		return json.Marshal(map[string]any{"id": id, "user": o.User, "amount": o.Amount})
	})
	h("POST /orders/{id}/ship", func(ctx context.Context, r *http.Request) ([]byte, error) {
		if err := s.faults.diskFull(); err != nil {
			return nil, fail(http.StatusInsufficientStorage, "updating the order: %v", err)
		}
		if _, err := s.store.db.ExecContext(ctx, `UPDATE orders SET status = 'shipped' WHERE id = ?`, r.PathValue("id")); err != nil {
			return nil, fail(http.StatusInternalServerError, "updating the order: %v", err)
		}
		return []byte(`{"shipped":true}`), nil
	})
}

// cache is the cache service's memory: keys with a time to live.
type cache struct {
	mu sync.Mutex
	m  map[string]entry
}

type entry struct {
	v       []byte
	expires time.Time
}

func newCache() *cache { return &cache{m: map[string]entry{}} }

func (c *cache) flush() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.m)
	c.m = map[string]entry{}
	return n
}

func (s *service) cacheRoutes(h func(pattern string, f handler)) {
	c := s.cache
	h("GET /kv/{key}", func(_ context.Context, r *http.Request) ([]byte, error) {
		c.mu.Lock()
		e, ok := c.m[r.PathValue("key")]
		c.mu.Unlock()
		if !ok || time.Now().After(e.expires) {
			return nil, fail(http.StatusNotFound, "miss")
		}
		return e.v, nil
	})
	h("PUT /kv/{key}", func(_ context.Context, r *http.Request) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, fail(http.StatusBadRequest, "reading the value: %v", err)
		}
		c.mu.Lock()
		if len(c.m) > 100_000 {
			c.m = map[string]entry{}
		}
		c.m[r.PathValue("key")] = entry{v: b, expires: time.Now().Add(30 * time.Second)}
		c.mu.Unlock()
		return []byte(`{}`), nil
	})
	h("DELETE /kv/{key}", func(_ context.Context, r *http.Request) ([]byte, error) {
		c.mu.Lock()
		delete(c.m, r.PathValue("key"))
		c.mu.Unlock()
		return []byte(`{}`), nil
	})
}

// queue is the queue service: messages in memory, journalled to disk.
type queue struct {
	mu      sync.Mutex
	msgs    [][]byte
	journal *os.File
}

func openQueue(path string) (*queue, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the journal: %w", err)
	}
	return &queue{journal: f}, nil
}

func (q *queue) close() error { return q.journal.Close() }

func (s *service) queueRoutes(h func(pattern string, f handler)) {
	q := s.queue
	h("POST /publish", func(_ context.Context, r *http.Request) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil || !json.Valid(b) {
			return nil, fail(http.StatusBadRequest, "a message must be JSON")
		}
		if err := s.faults.diskFull(); err != nil {
			return nil, fail(http.StatusInsufficientStorage, "journalling the message: %v", err)
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		if _, err := q.journal.Write(append(b, '\n')); err != nil {
			return nil, fail(http.StatusInsufficientStorage, "journalling the message: %v", err)
		}
		if len(q.msgs) >= 10_000 {
			return nil, fail(http.StatusServiceUnavailable, "queue full: 10000 messages")
		}
		q.msgs = append(q.msgs, b)
		return []byte(`{}`), nil
	})
	h("POST /consume", func(_ context.Context, r *http.Request) ([]byte, error) {
		max, _ := strconv.Atoi(r.URL.Query().Get("max"))
		if max <= 0 {
			max = 10
		}
		q.mu.Lock()
		n := min(max, len(q.msgs))
		out := q.msgs[:n:n]
		q.msgs = q.msgs[n:]
		q.mu.Unlock()
		raw := make([]json.RawMessage, len(out))
		for i, m := range out {
			raw[i] = m
		}
		return json.Marshal(raw)
	})
}
