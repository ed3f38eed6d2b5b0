"""The gate (DESIGN.md, "Ick does the merging"): a project's candidates tested merged onto
their target branch, which ick alone moves, by compare and swap, when one passes."""
