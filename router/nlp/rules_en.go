package nlp

// englishRules are Vigie's English reading rules, written for this package:
// the modifiers VADER's paper describes (its rule engine is not in the
// lexicon file), the customer-service vocabulary a social desk meets, and
// intent cues. Entries are written as people write them; they are tokenized
// like posts when loaded.
var englishRules = langRules{
	// Valences on VADER's scale (-4..4) that add to or override the lexicon:
	// customer-service words VADER rates mildly or not at all, and set
	// phrases whose meaning is not the sum of their words.
	valences: []string{
		"delayed=-1.6", "delay=-1.4", "delays=-1.4", "cancelled=-1.6", "canceled=-1.6", "cancellation=-1.3",
		"refund=-0.8", "overcharged=-2", "overbooked=-1.8", "outage=-2", "unreachable=-1.8",
		"unresponsive=-1.8", "glitch=-1.2", "buggy=-1.6", "crashed=-1.5", "crashes=-1.5", "crashing=-1.5",
		"stuck=-1.3", "laggy=-1.5", "missing=-1.2", "damaged=-1.8", "incorrect=-1.4", "ripoff=-2.5",
		"slow=-1.2", "expensive=-1.2", "overpriced=-2", "too expensive=-1.8", "ok=0.3", "okay=0.3",
		"refunded=0.8", "resolved=1.2", "fixed=0.8", "delivered=0.5", "received=0.4", "answered=0.5",
		"still waiting=-2", "still no=-1.5", "still not=-1.5", "still haven't=-1.6", "still hasn't=-1.6",
		"no answer=-1.8", "no response=-1.8", "no reply=-1.8", "no one answers=-2.2", "nobody answers=-2.2",
		"on hold=-1.5", "lost luggage=-2.2", "lost my luggage=-2.2", "lost my bag=-2.2",
		"not working=-1.8", "doesn't work=-1.8", "don't work=-1.8", "isn't working=-1.8", "stopped working=-1.8",
		"never again=-2.2", "never arrived=-2", "never received=-2", "not received=-1.8", "haven't received=-1.8",
		"waste of time=-2.2", "waste of money=-2.2", "rip off=-2.5", "charged twice=-2",
		"customer service=0", "not bad=1.3", "not too bad=1.2", "no problem=1", "no problems=0.8",
		"no worries=1", "no doubt=0.8", "can't wait=2", "cant wait=2", "can not wait=2", "thank you=2",
		"shout out=1.5", "well done=2", "yeah right=-1.5", "the bomb=3", "kiss of death=-1.5",
		"feel like=0", "feels like=0", "looks like=0", "look like=0", "seems like=0", "sounds like=0",
		"just like=0", "like a=0", "like the=0", "like this=0", "like that=0",
	},
	boosters: []string{
		"absolutely=0.293", "amazingly=0.293", "awfully=0.293", "completely=0.293", "considerably=0.293",
		"deeply=0.293", "enormously=0.293", "entirely=0.293", "especially=0.293", "exceptionally=0.293",
		"extremely=0.293", "fully=0.293", "fucking=0.293", "freaking=0.293", "greatly=0.293", "hella=0.293",
		"highly=0.293", "hugely=0.293", "incredibly=0.293", "intensely=0.293", "particularly=0.293",
		"quite=0.15", "really=0.293", "remarkably=0.293", "so=0.293", "soo=0.293", "such=0.293",
		"super=0.293", "thoroughly=0.293", "totally=0.293", "tremendously=0.293", "truly=0.293",
		"unbelievably=0.293", "utterly=0.293", "very=0.293", "too=0.2", "most=0.293", "more=0.15",
		"almost=-0.293", "barely=-0.293", "hardly=-0.293", "kind of=-0.293", "kinda=-0.293", "sort of=-0.293",
		"sorta=-0.293", "slightly=-0.293", "somewhat=-0.293", "a bit=-0.293", "a little=-0.293",
		"marginally=-0.293", "partly=-0.293", "less=-0.293", "little=-0.2",
	},
	negators: []string{
		"not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "nowhere", "without", "cannot",
		"can't", "cant", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "aren't",
		"arent", "wasn't", "wasnt", "weren't", "werent", "won't", "wont", "wouldn't", "wouldnt",
		"shouldn't", "shouldnt", "couldn't", "couldnt", "haven't", "havent", "hasn't", "hasnt", "hadn't",
		"hadnt", "ain't", "aint", "mustn't", "needn't", "no one", "rarely", "seldom",
	},
	negSuffix: "n't",
	// Counterfactuals state what did not happen: "should have been better",
	// "i wish it worked", "could have been worse". The opinion that follows
	// is reversed, as under a negation. "i wish you" (a greeting) and "would
	// love to" (a wish about the future) are not among them.
	counterfactual: []string{
		"should have", "should've", "shouldve", "could have", "could've", "couldve", "would have",
		"would've", "wouldve", "i wish i", "i wish it", "i wish they", "i wish we", "i wish he",
		"i wish she", "i wish there", "i wish that", "i wish my", "i wish the", "wish i could", "wish i was",
		"wish i were", "wish i had", "if only", "would be nice", "would be great",
	},
	contrast: []string{"but", "however", "nevertheless", "nonetheless"},
	// A concessive clause grants what the main clause outweighs: "although
	// the staff were nice, the room was filthy".
	concessive: []string{"although", "though", "even though", "despite", "in spite of", "albeit", "even if"},
	// "never so happy", "never this bad": the negation strengthens.
	neverWords:  []string{"never"},
	neverCancel: []string{"so", "this", "as", "that", "such"},
	intents: map[string][]string{
		intentChurn: {
			"cancel my", "cancelling my", "canceling my", "cancel subscription", "unsubscribe", "close my account",
			"closing my account", "switching to", "switch to", "switched to", "moving to", "going back to",
			"i'm leaving", "im leaving", "leaving you", "done with you", "take my business elsewhere",
			"taking my business", "find another provider", "terminate my contract", "end my contract",
			"port my number", "competitor", "goodbye",
		},
		intentPurchase: {
			"buy", "buying", "to purchase", "purchasing", "want to order", "how much", "price", "prices", "pricing", "cost",
			"in stock", "available", "availability", "where can i get", "where can i buy", "preorder",
			"pre-order", "do you ship", "ship to", "quote", "upgrade to", "sign up", "subscribe",
		},
		intentSpam: {
			"click here", "follow back", "followback", "follow me", "giveaway", "win a", "win free", "free gift",
			"promo code", "discount code", "coupon", "limited offer", "limited time", "dm for", "check out my",
			"earn money", "make money", "work from home", "crypto", "bitcoin", "forex", "subscribe to my",
			"shop now", "buy now", "order now", "deal of the day", "% off=0.5", "sale=0.5", "free=0.5",
		},
		intentComplaint: {
			"refund", "delayed", "delay", "cancelled", "canceled", "lost", "broken", "damaged", "missing",
			"still waiting", "no answer", "no response", "no reply", "not working", "doesn't work",
			"stopped working", "worst", "terrible", "awful", "unacceptable", "ridiculous", "disappointed",
			"complaint", "complain", "fix this", "fix it", "sort this out", "on hold", "charged twice",
			"overcharged", "never received", "never arrived", "hasn't arrived", "not received", "where is my",
			"where's my", "outage", "down again", "error", "scam", "rip off", "useless", "rude", "poor service",
			"bad service", "still not", "still no", "never again",
		},
		intentPraise: {
			"thank you", "thanks", "thx", "love", "awesome", "great job", "well done", "amazing", "kudos",
			"shout out", "best", "excellent", "fantastic", "impressed", "appreciate", "helpful", "perfect",
			"great service",
		},
	},
	morph: morphEnglish,
	// Words that open a question even when the post drops its "?".
	questionStarters: []string{
		"how", "what", "why", "when", "where", "who", "which", "any idea", "does anyone", "anyone know",
		"is there", "can i", "can you", "could you", "do you", "will you",
	},
}
