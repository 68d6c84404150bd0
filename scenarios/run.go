package scenarios

import (
	"context"

	"github.com/wsslab/wsslab/harness"
)

// Run starts each scenario's server in turn, dials it with every client and
// returns the results in table order (scenario, then client order). progress,
// if not nil, is called after each result.
func (l *Lab) Run(ctx context.Context, list []Scenario, clients []harness.Client, progress func(Result)) ([]Result, error) {
	var out []Result
	for _, sc := range list {
		in, err := l.Start(ctx, sc, "")
		if err != nil {
			return out, err
		}
		for _, c := range clients {
			r := in.Dial(ctx, c)
			out = append(out, r)
			if progress != nil {
				progress(r)
			}
		}
		in.Close()
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}
