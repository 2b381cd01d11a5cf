package scan

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// The component catalogue and SBOM stage has the analyzers' time bound: a
// stage still running then is stopped (or, if it ignores its context, left
// behind after a grace period) and both its parts are reported as stopped,
// with nothing they gave; the analyzers' findings stay.
func TestSBOMStageTimeBound(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for _, c := range []struct {
		name  string
		stage func(ctx context.Context) sbomStage
	}{
		{"notices its context", func(ctx context.Context) sbomStage {
			<-ctx.Done()
			return sbomStage{comps: nil, catalogErr: ctx.Err(), sbomErr: ctx.Err()}
		}},
		{"ignores its context", func(context.Context) sbomStage {
			<-release
			return sbomStage{}
		}},
		{"cut short without an error", func(ctx context.Context) sbomStage {
			<-ctx.Done()
			return sbomStage{} // as if syft had stopped early and said nothing
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn, grace := sbomStageFn, sbomGrace
			defer func() { sbomStageFn, sbomGrace = fn, grace }()
			sbomStageFn = func(ctx context.Context, _ string, _ *extract.Result, _ *analyzers.Target, _ []analyzers.Analyzer, _ bool) sbomStage {
				return c.stage(ctx)
			}
			sbomGrace = 200 * time.Millisecond
			lim := extract.DefaultLimits()
			lim.AnalyzerTimeout = 1500 * time.Millisecond
			// credentials only: quick on this fixture, well under the bound
			res, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipVulns: true, Limits: lim, Analyzers: credentialsOnly()})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report
			stopped := map[string]bool{}
			for _, f := range r.Analyzers.Failures {
				if strings.Contains(f.Error, analyzers.ErrTimeBound.Error()) {
					stopped[f.Analyzer] = true
				}
			}
			if !stopped["components"] || !stopped["sbom"] || len(r.Analyzers.Failures) != 2 {
				t.Errorf("failures: %+v", r.Analyzers.Failures)
			}
			if countBy(r.Findings, "credentials") == 0 {
				t.Error("the analyzers' findings were lost")
			}
		})
	}
	// a stage that ends in time is kept
	fn := sbomStageFn
	defer func() { sbomStageFn = fn }()
	sbomStageFn = func(ctx context.Context, image string, res *extract.Result, tg *analyzers.Target, list []analyzers.Analyzer, syft bool) sbomStage {
		return fn(ctx, image, res, tg, list, syft)
	}
	lim := extract.DefaultLimits()
	res, err := Run(context.Background(), fixture("rootfs.tar"), Options{SkipVulns: true, Limits: lim, Analyzers: credentialsOnly()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Analyzers.Failures) != 0 || len(res.Report.Components) == 0 {
		t.Errorf("in time: failures %+v, %d components", res.Report.Analyzers.Failures, len(res.Report.Components))
	}
}

// countBy counts the findings of one analyzer.
func countBy(fs []analyzers.Finding, analyzer string) int {
	n := 0
	for _, f := range fs {
		if f.Analyzer == analyzer {
			n++
		}
	}
	return n
}

// credentialsOnly is the credentials analyzer alone (quick on rootfs.tar).
func credentialsOnly() []analyzers.Analyzer {
	for _, a := range Default() {
		if a.Name() == "credentials" {
			return []analyzers.Analyzer{a}
		}
	}
	return nil
}
