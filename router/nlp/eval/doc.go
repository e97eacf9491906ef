// Package eval measures router/nlp on the public labelled data kept outside
// the repository (../shared/data): English sentiment on the Sentiment140
// manual test set, side by side with govader (the Go port of VADER) on the
// same texts, French sentiment on the validation split of the DEFT 2017
// tweets (UMSAB), language detection on both, and throughput on one core.
//
// Nothing here is embedded in the product; the data are read at run time and
// Run fails with the missing path when they are absent. FitBand fits the
// neutral band on the French training split only.
//
// Run and FitBand are safe to call concurrently; each reads the files anew.
package eval
