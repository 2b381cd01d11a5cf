package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/anchore/syft/syft/sbom"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

// sbomStage is what the components and SBOM stages give.
type sbomStage struct {
	comps      []report.Component
	sboms      map[string][]byte
	merged     *sbom.SBOM
	catalogErr error
	sbomErr    error
	done       time.Time // when it ended
}

// sbomStageFn is the stage (tests replace it); sbomGrace is how long the
// scan waits, once the stage's time bound is reached, for it to notice.
var (
	sbomStageFn = runSBOMStage
	sbomGrace   = 30 * time.Second
)

// awaitStage waits for the stage, which runs under sctx (the scan's ctx
// with the analyzers' time bound). A stage that ended after its bound may
// have been cut short (syft and the catalogue stop where they notice the
// context), so what it gave is dropped and both parts are reported as
// stopped at the bound; one that does not end within sbomGrace after it is
// left behind (its goroutine ends when it notices), so a cataloguer that
// ignores its context cannot hold the scan.
func awaitStage(ctx, sctx context.Context, sb <-chan sbomStage, bound time.Duration) sbomStage {
	var st sbomStage
	select {
	case st = <-sb:
	case <-sctx.Done():
		select {
		case st = <-sb:
		case <-time.After(sbomGrace):
			st.done = time.Now()
		}
	}
	return stageBound(ctx, sctx, st, bound)
}

// stageBound drops what the stage gave if it ended at or after its time
// bound (see awaitStage).
func stageBound(ctx, sctx context.Context, st sbomStage, bound time.Duration) sbomStage {
	deadline, ok := sctx.Deadline()
	if ctx.Err() == nil && ok && !st.done.Before(deadline) {
		err := fmt.Errorf("%w (%s): the component catalogue and the SBOM were stopped", analyzers.ErrTimeBound, bound)
		return sbomStage{catalogErr: err, sbomErr: err, done: st.done}
	}
	return st
}

// runSBOMStage builds the component catalogue and the SBOMs of the
// extracted tree (it runs while the analyzers do).
func runSBOMStage(ctx context.Context, image string, res *extract.Result, target *analyzers.Target, list []analyzers.Analyzer, withSyft bool) sbomStage {
	var st sbomStage
	// the component rules the analyzers were given (a rule folder's
	// components.yaml, carried by the eol analyzer): the catalogue the eol
	// analyzer builds for this Target is shared, not built twice
	fw, err := components.Catalog(ctx, target, components.RulesOf(list))
	st.catalogErr = err
	st.comps, st.sboms, st.merged, st.sbomErr = BuildSBOM(ctx, image, res, fw, withSyft)
	return st
}
