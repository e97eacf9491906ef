package nlp

// Thresholds of the intent rules.
const (
	spamMin         = 1.5  // spam cues (with link and hashtag bonuses) to call a post spam
	strongNegative  = -0.5 // a reading this negative is a complaint even without a cue
	clearlyPositive = 0.5  // a reading this positive is praise even without a cue
)

// intent decides a post's intent from the cues of res, the shape of the post
// (question marks, links, hashtags) and its sentiment. Order matters: spam,
// then churn (a customer about to leave), complaint, purchase, question,
// praise, other.
//
// sentTerms are the sentiment terms: the evidence of a complaint told by its
// tone alone.
func (a *Analyzer) intent(text string, toks []token, res *langRes, score float64, label string, sentTerms []string) (string, []string) {
	var (
		scores            [6]float32
		terms             [6][]string
		urls, tags, quest int
		firstWord         = -1
		questionTerm      string
	)
	sentenceStart := true
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		switch t.kind {
		case kURL:
			urls++
			continue
		case kHashtag:
			tags++
		case kPunct:
			if t.norm == "?" {
				quest++
				if questionTerm == "" {
					questionTerm = "?"
				}
			}
			if t.norm != "," {
				sentenceStart = true
			}
			continue
		}
		if !t.isWordish() || res == nil {
			continue
		}
		if sentenceStart {
			sentenceStart = false
			first := firstWord < 0
			if first {
				firstWord = i
			}
			for _, q := range res.questions[t.norm] {
				if questionTerm == "" && (first || quest > 0) && matchWords(q, toks, i) {
					questionTerm = text[t.start:toks[i+len(q)-1].end]
				}
			}
		}
		for _, c := range res.cues[t.norm] {
			if matchWords(c.words, toks, i) {
				k := intentIndex(c.intent)
				scores[k] += c.w
				terms[k] = append(terms[k], text[t.start:toks[i+len(c.words)-1].end])
				i += len(c.words) - 1
				break
			}
		}
	}
	spam := scores[0]
	if spam > 0 {
		if urls > 0 {
			spam += 0.5
		}
		if tags >= 4 {
			spam += 0.5
		}
	}
	switch {
	case spam >= spamMin:
		return intentSpam, terms[0]
	case scores[1] >= 1:
		return intentChurn, terms[1]
	case scores[2] >= 1 && label != LabelPositive:
		return intentComplaint, terms[2]
	case score <= strongNegative:
		return intentComplaint, sentTerms
	case scores[3] >= 1:
		return intentPurchase, terms[3]
	case quest > 0 || questionTerm != "":
		// A question mark, or a question word opening the post (posts
		// often drop the mark).
		if questionTerm == "" {
			questionTerm = "?"
		}
		return intentQuestion, []string{questionTerm}
	case scores[4] >= 1 && label == LabelPositive, score >= clearlyPositive:
		return intentPraise, terms[4]
	}
	return intentOther, nil
}

// intentIndex returns the slot of a cue's intent in intent's tallies.
func intentIndex(intent string) int {
	switch intent {
	case intentSpam:
		return 0
	case intentChurn:
		return 1
	case intentComplaint:
		return 2
	case intentPurchase:
		return 3
	}
	return 4
}
