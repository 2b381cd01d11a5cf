package scan

import (
	"context"

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
