// Package router understands each mention (language, sentiment, intent,
// influence) and routes it by ordered rules to a customer-service queue, with
// a trace that says which rules matched and why.
//
// The Router follows the intake log from the cursor its Sink (the desk) keeps,
// in batches, and hands each batch to the Sink, which commits the batch and the
// cursor together: a mention is routed exactly once, even across a crash.
//
// Reading a text is behind the Classifier interface; router/nlp implements it
// for English and French. A RuleSet can be swapped while the router runs.
package router
