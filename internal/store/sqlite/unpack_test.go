package sqlite

import (
	"fmt"
	"slices"
	"testing"
)

// pack writes one message as packedMessage does in SQL.
func pack(seq int64, id, body string) string {
	return fmt.Sprintf("%d,0,%d,%d,%d,%d,%d,%d,%d,%s%s%s%s%s%s", seq, 1000+seq,
		len(id), len("corp"), len("app"), len("key"), len("text"), len(body), id, "corp", "app", "key", "text", body)
}

// SQLite does not promise the order in which group_concat joins the page's
// rows: whatever it is, the page comes back by seq in the asked direction.
func TestUnpackOrdersPage(t *testing.T) {
	runs := map[int64]string{}
	for _, seq := range []int64{3, 1, 2} {
		runs[seq] = pack(seq, fmt.Sprintf("msg%d", seq), fmt.Sprintf(`{"n":%d}`, seq))
	}
	for _, order := range [][]int64{{3, 2, 1}, {1, 2, 3}, {2, 3, 1}} {
		page := ""
		for _, seq := range order {
			page += runs[seq]
		}
		for _, desc := range []bool{true, false} {
			ms, err := unpackMessages("chat1", page, 3, desc)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, m := range ms {
				got = append(got, m.Seq)
				if m.ID != fmt.Sprintf("msg%d", m.Seq) || string(m.Body) != fmt.Sprintf(`{"n":%d}`, m.Seq) || m.CreatedAt != 1000+m.Seq || m.ChatID != "chat1" {
					t.Fatalf("order %v: message %d read as %+v", order, m.Seq, m)
				}
			}
			want := []int64{1, 2, 3}
			if desc {
				want = []int64{3, 2, 1}
			}
			if !slices.Equal(got, want) {
				t.Errorf("order %v, desc %v: got %v, want %v", order, desc, got, want)
			}
		}
	}
}
