package postgres_test

import (
	"testing"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/storetest"
)

func TestContract(t *testing.T) {
	dingtest.PostgresURL(t)
	storetest.Run(t, func(t testing.TB) ding.Store { return dingtest.OpenPostgresThrowaway(t) })
}
