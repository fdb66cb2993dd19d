package postgres

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

var arrayValues = []struct {
	OID   uint32
	Value any
}{
	{pgtype.TextArrayOID, []string{"user1", "", "张三", "a,b\"c\\d{e}", " NULL "}},
	{pgtype.TextArrayOID, []string{}},
	{pgtype.TextArrayOID, []string(nil)},
	{pgtype.Int8ArrayOID, []int64{0, -1, 1 << 62, -1 << 63, 1764880000000}},
	{pgtype.Int8ArrayOID, []int64{}},
	{pgtype.Int8ArrayOID, []int64(nil)},
	{pgtype.Int4ArrayOID, []int32{0, 1, -2, 1<<31 - 1, -1 << 31}},
	{pgtype.Int4ArrayOID, []int32(nil)},
	{pgtype.ByteaArrayOID, [][]byte{[]byte(`{"msgtype":"text"}`), {}, nil, {0, 0xff}}},
	{pgtype.ByteaArrayOID, [][]byte{}},
	{pgtype.ByteaArrayOID, [][]byte(nil)},
}

// The plans write, byte for byte, what pgx's own array plan writes.
func TestArrayPlansMatchPgx(t *testing.T) {
	ours, theirs := pgtype.NewMap(), pgtype.NewMap()
	registerArrays(ours)
	for _, c := range arrayValues {
		plan := ours.PlanEncode(c.OID, pgtype.BinaryFormatCode, c.Value)
		switch plan.(type) {
		case arrayPlan[string], arrayPlan[int64], arrayPlan[int32], arrayPlan[[]byte]:
		default:
			t.Fatalf("%T for OID %d took pgx's plan %T", c.Value, c.OID, plan)
		}
		got, gerr := plan.Encode(c.Value, []byte("head"))
		want, werr := theirs.PlanEncode(c.OID, pgtype.BinaryFormatCode, c.Value).Encode(c.Value, []byte("head"))
		if gerr != nil || werr != nil || !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%#v: ours %x, %v; pgx %x, %v", c.Value, got, gerr, want, werr)
		}
	}
	// another OID, or the text format, stays with pgx
	if _, ok := ours.PlanEncode(pgtype.VarcharArrayOID, pgtype.BinaryFormatCode, []string{"a"}).(arrayPlan[string]); ok {
		t.Fatal("varchar[] took the text[] plan")
	}
	if _, ok := ours.PlanEncode(pgtype.TextArrayOID, pgtype.TextFormatCode, []string{"a"}).(arrayPlan[string]); ok {
		t.Fatal("the text format took the binary plan")
	}
}

// A create's 40 member ids as a text[] parameter.
func BenchmarkTextArray40(b *testing.B) {
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = "user" + string(rune('a'+i%26)) + "12345"
	}
	ours, theirs := pgtype.NewMap(), pgtype.NewMap()
	registerArrays(ours)
	buf := make([]byte, 0, 2048)
	for _, m := range []struct {
		name string
		m    *pgtype.Map
	}{{"ours", ours}, {"pgx", theirs}} {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				buf, _ = m.m.Encode(pgtype.TextArrayOID, pgtype.BinaryFormatCode, ids, buf[:0])
			}
		})
	}
}
