"""Model families as advisor sees them: the contract a plugin registers (`contract`), the hook
specifications, finding and isolating installed plugins (`discovery`), and choosing which
families a request tries (`selection`). Plugin authors import `advisor.sdk` instead."""
