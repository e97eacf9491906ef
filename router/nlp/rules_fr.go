package nlp

// frenchRules are Vigie's French reading rules, written for this package:
// modifiers, negation ("ne ... pas/plus/jamais", often written without "ne"),
// customer-service vocabulary, the social-media register VADER-FR and
// Pattern do not rate ("nul", "au top", "mdr"), and intent cues.
var frenchRules = langRules{
	valences: []string{
		"nul=-2", "nulle=-2", "nuls=-2", "nulles=-2", "terrible=-1.5", "top=2", "au top=2.5", "bravo=2.5",
		"bien=0.6", "super=2", "mdr=1.5", "ptdr=1.5", "lol=1.5", "genial=2.8", "honteux=-2.5", "honte=-2",
		"scandale=-2.2", "scandaleux=-2.5", "inadmissible=-2.5", "inacceptable=-2.5", "lamentable=-2.5",
		"pitoyable=-2.3", "catastrophique=-2.5", "catastrophe=-2.5", "galere=-1.8", "marre=-2",
		"ras le bol=-2.2", "foutage de gueule=-2.5", "n'importe quoi=-1.8", "arnaque=-2.5", "arnaques=-2.5",
		"arnaqueur=-2.5", "arnaqueurs=-2.5", "retard=-1.5", "retards=-1.5", "retarde=-1.5", "retardee=-1.5",
		"annule=-1.5", "annulee=-1.5", "annules=-1.5", "annulees=-1.5", "annulation=-1.3",
		"annulations=-1.3", "remboursement=-0.6", "remboursez=-1.2", "rembourse=0.5", "remboursee=0.5",
		"injoignable=-2", "injoignables=-2", "panne=-1.5", "en panne=-1.8", "bug=-1.2", "bugs=-1.2",
		"beug=-1.2", "bugue=-1.2", "plante=-1", "attente=-0.8",
		"toujours pas=-1.5", "toujours rien=-1.8", "toujours en attente=-1.8", "attends toujours=-1.8",
		"personne ne repond=-2.2", "aucune reponse=-2", "pas de reponse=-2", "sans reponse=-1.8",
		"sans nouvelles=-1.8", "marche pas=-1.8", "marche plus=-1.8", "fonctionne pas=-1.8",
		"fonctionne plus=-1.8", "valise perdue=-2", "bagage perdu=-2", "bagages perdus=-2",
		"plus jamais=-2", "service client=0", "pas terrible=-1.5", "pas top=-1.5", "pas mal=1.2",
		"pas mal de=0", "pas de souci=0.8", "pas de soucis=0.8", "pas de probleme=0.8", "aucun souci=0.8",
		"aucun probleme=0.8", "sans souci=0.8", "sans probleme=0.8", "de rien=0", "bien sur=0",
		"eh bien=0", "bien que=0", "merci beaucoup=2", "merci=1.5", "j'adore=2.5", "trop bien=2",
		"lent=-1.2", "lente=-1.2", "lents=-1.2", "lentes=-1.2", "trop cher=-1.8", "trop chere=-1.8",
		"cher client=0", "chere cliente=0", "chers clients=0", "mot de passe=0", "ok=0.3", "okay=0.3",
		"resolu=1.2", "repare=0.8", "livre=0", "recu=0.4",
	},
	boosters: []string{
		"tres=0.293", "trop=0.293", "vraiment=0.293", "tellement=0.293", "super=0.293", "hyper=0.293",
		"grave=0.2", "extremement=0.293", "completement=0.293", "totalement=0.293", "absolument=0.293",
		"particulierement=0.293", "vachement=0.293", "carrement=0.293", "franchement=0.2", "si=0.2",
		"tout a fait=0.293", "vraiment tres=0.4", "plutot=-0.1", "assez=-0.1", "un peu=-0.293",
		"peu=-0.293", "legerement=-0.293", "moyennement=-0.293", "relativement=-0.2", "presque=-0.293",
	},
	negators: []string{
		"pas", "jamais", "rien", "aucun", "aucune", "sans", "ni", "non", "guere", "personne ne",
	},
	// "ne" opens a negation that these particles close ("n'aime pas"); "plus"
	// negates only after "ne", elsewhere it compares.
	neOpener:  "ne",
	neClosers: []string{"pas", "plus", "jamais", "rien", "aucun", "aucune", "personne", "guere", "point"},
	// "ne ... que" restricts ("only"); it does not negate.
	neCancel:    []string{"que"},
	contrast:    []string{"mais", "cependant", "pourtant", "toutefois", "neanmoins"},
	neverWords:  []string{"jamais"},
	neverCancel: []string{"aussi", "si", "autant", "tellement", "plus"},
	intents: map[string][]string{
		intentChurn: {
			"resilier", "resiliation", "resilie", "je me desabonne", "desabonner", "desabonnement",
			"je vais chez", "je passe chez", "je pars chez", "passer chez", "partir chez",
			"changer d'operateur", "changer de banque", "changer de fournisseur", "fermer mon compte",
			"cloturer mon compte", "la concurrence", "concurrent", "je vous quitte", "annuler mon abonnement",
			"annuler mon contrat", "mettre fin a mon", "adieu",
		},
		intentPurchase: {
			"acheter", "achat", "commander", "combien", "prix", "tarif", "tarifs", "cout", "disponible",
			"en stock", "dispo", "ou trouver", "ou acheter", "precommande", "precommander", "devis",
			"souscrire", "m'abonner",
		},
		intentSpam: {
			"cliquez ici", "clique ici", "code promo", "concours", "jeu concours", "gagnez", "a gagner",
			"offre limitee", "rt pour", "abonnez-vous", "bon plan", "bons plans", "gratuit=0.5", "promo=0.5",
			"soldes=0.5", "reduction=0.5",
		},
		intentComplaint: {
			"remboursement", "rembourser", "remboursez", "retard", "retards", "en retard", "annule", "annulee",
			"annulation", "perdu", "perdue", "casse", "cassee", "endommage", "toujours pas", "toujours rien",
			"personne ne repond", "aucune reponse", "pas de reponse", "sans reponse", "injoignable",
			"en panne", "panne", "bug", "marche pas", "fonctionne pas", "marche plus", "fonctionne plus",
			"reclamation", "plainte", "inadmissible", "inacceptable", "honteux", "scandaleux", "arnaque", "nul",
			"lamentable", "j'attends", "plus jamais", "facture=0.5", "preleve=0.5", "deux fois=0.5",
		},
		intentPraise: {
			"merci", "bravo", "felicitations", "top", "au top", "genial", "excellent", "parfait", "super",
			"j'adore", "adore", "rien a dire", "impeccable", "efficace", "chapeau", "nickel",
		},
	},
	morph: morphFrench,
	// Words that open a question even when the post drops its "?".
	questionStarters: []string{
		"comment", "pourquoi", "quand", "ou", "qui", "quel", "quelle", "quels", "quelles", "est-ce que",
		"est-ce", "savez-vous", "pouvez-vous", "pourriez-vous", "y a-t-il", "quelqu'un sait", "qqn",
	},
}
