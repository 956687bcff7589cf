// compose-check loads a Compose file the way Docker Compose does (compose-go:
// interpolation, validation against the compose-spec JSON schema, then the
// semantic checks of the loader) and prints the resolved project as JSON, so
// the tests can check policy on it. It needs no Docker engine.
//
//	go run ./scripts/compose-check docker-compose.yml
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <compose file>")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(
		[]string{os.Args[1]},
		cli.WithName("otel-winston"),
		cli.WithOsEnv,
		cli.WithDotEnv,
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
