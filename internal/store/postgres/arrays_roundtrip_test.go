package postgres_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/dingchat/dingchat/internal/dingtest"
	"github.com/dingchat/dingchat/internal/store/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// What PostgreSQL reads from them is the value sent.
func TestArrayPlansRoundTrip(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dingtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	postgres.RegisterArrays(conn.TypeMap())
	casts := map[uint32]string{pgtype.TextArrayOID: "text[]", pgtype.Int8ArrayOID: "int8[]", pgtype.Int4ArrayOID: "int4[]", pgtype.ByteaArrayOID: "bytea[]"}
	for _, c := range postgres.ArrayValues {
		got := reflect.New(reflect.TypeOf(c.Value))
		var isNull bool
		if err := conn.QueryRow(ctx, `SELECT $1::`+casts[c.OID]+`, $1::`+casts[c.OID]+` IS NULL`, c.Value).Scan(got.Interface(), &isNull); err != nil {
			t.Fatalf("%#v: %v", c.Value, err)
		}
		if isNull != reflect.ValueOf(c.Value).IsNil() {
			t.Fatalf("%#v: IS NULL = %v", c.Value, isNull)
		}
		if !isNull && !reflect.DeepEqual(got.Elem().Interface(), c.Value) {
			t.Fatalf("sent %#v, read back %#v", c.Value, got.Elem().Interface())
		}
	}
}
