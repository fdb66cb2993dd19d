package main

import (
	"fmt"
	"io"
	"time"

	"github.com/dingchat/dingchat/internal/orgfile"
)

const orgUsage = `Usage: dingchat org check FILE

Checks an organisation file (the one dingchat serve --org applies) and
reports each problem with its line and YAML key; exits 0 when the file is
valid, 1 when it is not. Nothing is started or written.
`

// runOrg is `dingchat org …`.
func runOrg(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, orgUsage)
		return 0
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, orgUsage)
		return 2
	}
	if len(args) == 2 && isHelp(args[1]) {
		fmt.Fprint(stdout, orgUsage)
		return 0
	}
	if len(args) != 2 {
		fmt.Fprint(stderr, orgUsage)
		return 2
	}
	orgs, err := orgfile.Load(args[1], time.Now().UnixMilli())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	users, apps, groups := 0, 0, 0
	for _, o := range orgs {
		users += len(o.Users)
		apps += len(o.Apps)
		groups += len(o.Groups)
	}
	fmt.Fprintf(stdout, "%s: ok: %d corps, %d apps, %d users, %d groups\n", args[1], len(orgs), apps, users, groups)
	return 0
}
