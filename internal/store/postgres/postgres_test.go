package postgres_test

import (
	"context"
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/dingchat/dingchat/internal/store/storetest"
)

func TestContract(t *testing.T) {
	dingtest.PostgresURL(t)
	storetest.Run(t, func(t testing.TB) ding.Store { return dingtest.OpenPostgresThrowaway(t) })
}

// Several nodes starting at once on an empty schema migrate it once.
func TestOpenConcurrently(t *testing.T) {
	url := dingtest.PostgresSchema(t, 2)
	const nodes = 4
	errs := make(chan error, nodes)
	stores := make(chan *postgres.Store, nodes)
	for i := 0; i < nodes; i++ {
		go func() {
			st, err := postgres.Open(context.Background(), url)
			errs <- err
			stores <- st
		}()
	}
	for i := 0; i < nodes; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("Open: %v", err)
		}
		if st := <-stores; st != nil {
			t.Cleanup(func() { st.Close() })
		}
	}
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dingtest.Seed(t, st)
	if n, err := st.CountCorps(context.Background()); err != nil || n != 2 {
		t.Fatalf("CountCorps = %d, %v; want 2", n, err)
	}
}

// A URL whose search_path names no schema is refused, not migrated into
// another one.
func TestOpenWithoutSchema(t *testing.T) {
	url := dingtest.WithParams(dingtest.PostgresURL(t), map[string]string{"search_path": "t_no_such_schema"})
	if st, err := postgres.Open(context.Background(), url); err == nil {
		st.Close()
		t.Fatal("Open succeeded on a search_path that names no schema")
	}
}

// Statements are planned for their arguments: a generic plan cached while
// the tables were small slowed every request tenfold once they grew. A URL
// may still choose otherwise.
func TestPlansAreCustom(t *testing.T) {
	url := dingtest.PostgresSchema(t, 2)
	for _, tc := range []struct{ url, want string }{
		{url, "force_custom_plan"},
		{dingtest.WithParams(url, map[string]string{"plan_cache_mode": "auto"}), "auto"},
	} {
		st, err := postgres.Open(context.Background(), tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := postgres.ShowSetting(st, "plan_cache_mode")
		st.Close()
		if err != nil || got != tc.want {
			t.Fatalf("plan_cache_mode = %q, %v; want %q", got, err, tc.want)
		}
	}
}
