// Package cases reads root-cause cases from disk in the layouts seer is
// evaluated on: seer's own case layout (what `seer sim suite` writes, see
// shared/ARCHITECTURE.md), the RCD Sock Shop set (normal.csv and
// anomalous.csv per case) and the PetShop set (graph.csv, noissue/, train/
// and test/ issues). Load detects the layout.
package cases
