// Package nlp reads social posts for the router: language, sentiment and
// intent, in English and French. Analyzer implements router.Classifier.
//
// Language: function words of English, French, Spanish, German, Italian,
// Portuguese and Dutch, letters and endings typical of each, and the script
// for non-Latin text (ja, ko, zh, ru, ar, el, he, th, hi). Mentions, links
// and numbers are not evidence; hashtags count half. The source's hint tips
// close calls and stands in when the text says nothing; "und" otherwise.
//
// Sentiment: lexicons embedded with their licenses under lexicon/ — VADER
// (English), VADER-FR and Pattern's French adjectives — read with rules in
// the spirit of VADER's paper, written for this package: negation scopes
// (including "ne ... pas/plus/jamais" and "pas" alone), boosters and
// downtoners, "but"/"mais" (the clause after weighs more), capitals,
// elongation, exclamation, emoji and emoticons, set phrases ("pas terrible",
// "not bad") and customer-service vocabulary ("still waiting", "toujours
// pas", "personne ne répond"). The score is in [-1, 1]; a neutral band,
// fitted on training data only, gives the label. Texts in other languages
// are read by their emoji and emoticons only. A word the lexicon lacks is
// looked up under its base form (English -s/-ed/-ing/-in'/-ly, French
// feminine, plural and verb endings); opinions in a question count half.
//
// Intent: complaint, question, praise, purchase, churn, spam or other, from
// cue phrases per language, the shape of the post and its sentiment.
//
// Every reading returns its evidence: the author's own words that decided it.
//
// An Analyzer is safe for concurrent use. New parses the lexicons once per
// process (about 70 ms on a shared 2-core machine); Classify allocates about
// five small objects per text.
package nlp
