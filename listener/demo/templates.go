package demo

// tpl is one text template. Syntax: {slot} is replaced by a value drawn for
// the mention (see slot in text.go); [a|b|c] picks one alternative (which may
// hold slots; alternatives do not nest). Topic says what the text is about.
type tpl struct {
	topic string
	text  string
}

// templates holds, by language and intent, the texts new conversations start
// from. Every language has every intent.
var templates = map[string]map[Intent][]tpl{
	"fr": {
		Complaint: {
			{"delay", "{brand} [encore|ENCORE|toujours] [{delay}|{delay} de retard] sur le {train} {station} → {dest}, [c'est une blague ?|sérieusement ?|merci pour rien|j'en peux plus] {emo_angry}"},
			{"delay", "[Bloqué|Bloquée|Coincé|Coincés] à {station} depuis {time}, aucune info sur le {train}. {brand} vous comptez communiquer un jour ? {emo_angry}"},
			{"delay", "{delay} de retard, [correspondance ratée|rendez-vous raté|entretien raté|réunion ratée] à {dest}. Merci {brand} {emo_angry} {tag}"},
			{"delay", "Le {train} annoncé à {time}, [parti à {time}|toujours pas parti|parti avec {delay} de retard]. {brand} [c'est tous les jours pareil|quelle ponctualité|bravo]"},
			{"cancellation", "{brand} le {train} de {time} [supprimé|annulé] sans [prévenir|explication|aucun SMS], [on fait comment|je fais comment] pour aller à {dest} ?? {emo_angry}"},
			{"cancellation", "[Train annulé|Annulation] {day} à {station}, [2e fois|3e fois|4e fois] ce mois-ci. {brand} [ça devient n'importe quoi|vous vous moquez de nous] {tag}"},
			{"refund", "{brand} j'attends toujours le remboursement de mon billet ({amount}) pour le {train} annulé, dossier {ref}, [ça fait 3 semaines|ça fait un mois|ça fait 2 mois] {emo_angry}"},
			{"refund", "Demande de remboursement [refusée|ignorée|perdue] pour {delay} de retard. Dossier {ref}. {brand} [expliquez-moi|c'est illégal|je vais saisir le médiateur]"},
			{"luggage", "{brand} [ma valise|mon sac|ma valise cabine] [a disparu|est introuvable|a été perdue] entre {station} et {dest}, [personne ne sait rien|le service objets trouvés ne répond pas] {emo_sad}"},
			{"luggage", "Bagage perdu dans le {train}, dossier {ref}. {brand} ça fait {n} jours, des nouvelles ?? {emo_angry}"},
			{"staff", "{staff} [m'a parlé comme à un chien|a été d'une impolitesse rare|m'a crié dessus|nous a pris de haut] à {station}. {brand} [inadmissible|c'est ça votre service client ?|vraiment déçu·e] {emo_angry}"},
			{"staff", "Aucun agent {brand} au guichet de {station} à {time}, [file d'attente énorme|30 personnes qui attendent|machines en panne] {emo_angry}"},
			{"wifi", "Le wifi [du {train}|à bord|Velora] [ne marche jamais|est inutilisable|coupe toutes les 2 min], {brand} [impossible de bosser|et je paie 1re classe|on est en quelle année ?] {emo_angry}"},
			{"app", "[L'appli|L'application|L'app] {brand} [plante|crashe|bug] [au moment de payer|quand j'ouvre mon billet|à chaque mise à jour], [billet introuvable au contrôle|amende de {amount}|impossible de réserver] {emo_angry}"},
			{"app", "{brand} votre appli m'a débité [deux fois|2x|{amount}] pour le même billet, [dossier|commande] {ref} {emo_angry}"},
			{"price", "{amount} le {station} → {dest} [un mardi|en semaine|en réservant 1 mois avant] ?? {brand} [vous êtes sérieux|c'est du vol|les prix deviennent délirants] {emo_angry} {tag}"},
			{"price", "Les prix {brand} [ont encore augmenté|explosent|sont indécents], {amount} pour {delay} de retard en prime {emo_angry}"},
			{"cafe", "{amount} le {item} au {cafe} de {station}, [froid|rassis|immangeable] en plus. {brand} [honteux|abusé|non merci] {emo_angry}"},
			{"cafe", "[Plus rien|Plus de {item}|Rupture de tout] au {cafe} du {train} à {time}, et le service [fermé|à l'arrêt]. {brand} {emo_sad}"},
			{"cleanliness", "Toilettes [bouchées|sales|hors service] dans tout le {train}, voiture {n} [dégoûtante|insalubre]. {brand} {emo_angry}"},
			{"overcrowding", "[Debout|Assis par terre] depuis {station} dans le {train}, [pas de place|surbooking|voiture {n} supprimée] alors que j'ai payé {amount}. {brand} {emo_angry}"},
			{"accessibility", "{brand} [ascenseur en panne|pas de rampe|aucune assistance] à {station}, impossible pour moi en fauteuil de monter dans le {train}. [Inacceptable|Honteux] {emo_angry}"},
		},
		Question: {
			{"schedule", "{brand} [bonjour|hello|salut], le {train} {station} → {dest} de {time} circule bien [demain|ce week-end|{day}] ? {emo_q}"},
			{"schedule", "Quelqu'un sait si les trains {brand} pour {dest} sont perturbés [aujourd'hui|ce soir|{day}] ? {emo_q}"},
			{"schedule", "[Bonjour|Hello] {brand}, quel est le premier train pour {dest} [samedi|dimanche|demain] matin ?"},
			{"ticket", "{brand} [peut-on|est-ce qu'on peut] [échanger|modifier|annuler] un billet [Prem's|Flex|Liberté] après le départ ? Dossier {ref}"},
			{"ticket", "[Bonjour|Bjr] {brand}, mon billet n'apparaît pas dans l'appli, je fais comment au contrôle ? {emo_q}"},
			{"luggage", "{brand} [combien de valises|quelle taille de bagage|un vélo] [est autorisé|sont autorisées|on peut prendre] dans le {train} ? {emo_q}"},
			{"pets", "[Bonjour|Hello] {brand}, [mon chien|mon chat] peut voyager avec moi jusqu'à {dest} ? Il faut un billet ?"},
			{"accessibility", "{brand} comment réserver l'assistance PMR à {station} pour le {train} de {time} ? Merci d'avance"},
			{"cafe", "Le {cafe} de {station} ouvre à quelle heure [le dimanche|le matin|{day}] ? {brand}"},
			{"refund", "{brand} [j'ai droit à|peut-on avoir] une compensation pour {delay} de retard sur le {train} ? Dossier {ref}"},
			{"lost", "{brand} j'ai oublié [mon ordinateur|mes clés|ma veste|mon doudou] dans le {train} voiture {n}, qui contacter ? {emo_sad}"},
		},
		Praise: {
			{"staff", "Merci [au contrôleur|à l'équipe|à l'agente] du {train} {station} → {dest}, [super gentil·le|adorable|au top] avec ma [fille|mère|grand-mère] {emo_happy} {brand}"},
			{"punctuality", "{station} → {dest} [pile à l'heure|avec 2 min d'avance|sans un souci], {brand} [bravo|ça fait plaisir|merci] {emo_happy}"},
			{"cafe", "Le {item} du {cafe} de {station} [est une tuerie|est parfait|me sauve la matinée] {emo_happy} {tag}"},
			{"comfort", "[Voyage|Trajet] [super confortable|très agréable|au calme] avec {brand}, wifi qui marche et prise à chaque siège {emo_happy}"},
			{"service", "{brand} [remboursement reçu en 48h|réponse rapide de votre SAV|dossier {ref} réglé en un jour], [merci|chapeau|bien joué] {emo_happy}"},
			{"app", "La nouvelle appli {brand} est [vraiment bien|top|enfin fluide], billet en 3 clics {emo_happy}"},
			{"staff", "[Chapeau|Bravo|Respect] à l'équipe {brand} de {station} qui a géré la panne [avec le sourire|comme des pros|super bien] {emo_happy}"},
		},
		Purchase: {
			{"ticket", "Je [cherche|voudrais] un billet {station} → {dest} pour [vendredi|ce week-end|les vacances], [des promos|un code promo|des petits prix] {brand} ? {emo_q}"},
			{"pass", "[Je vais prendre|Je pense prendre|Je compte acheter] l'abonnement {brand} [Liberté|Jeune|Week-end] pour mes trajets {city} – {dest}, ça vaut le coup ?"},
			{"pass", "{brand} combien coûte la carte [Jeune|Senior|Avantage] ? Je [réserve|voyage] [tous les mois|souvent] vers {dest}"},
			{"ticket", "[Réservé|Acheté] mes billets {brand} pour {dest} en 1re classe, {amount} [aller-retour|A/R], hâte {emo_happy}"},
			{"cafe", "Il y a une formule petit-déj au {cafe} de {station} ? Je prends le {train} de {time} {emo_q}"},
		},
		Churn: {
			{"competitor", "[Fini|Terminé|C'est fini] {brand}, je passe chez {comp}. [{delay} de retard de trop|Trop de retards|Trop cher pour ce service] {emo_angry}"},
			{"subscription", "Je résilie mon abonnement {brand} [dès demain|ce mois-ci|aujourd'hui], {comp} est [moins cher|plus fiable|plus ponctuel] {emo_angry}"},
			{"general", "[Dernier voyage avec|Plus jamais] {brand}. [Après ce {train}|Après {delay} de retard|Après ce dossier {ref}], [jamais plus|adieu] {emo_angry} {tag}"},
			{"competitor", "{brand} vous venez de perdre [un client|une cliente|une famille de 4 clients]. Direction {comp} pour {dest} {emo_angry}"},
		},
		Spam: {
			{"followers", "🚀 [10K|50K|100K] [abonnés gratuits|free followers] en 24h !! Clique ici 👉 {link} {tag} {brand}"},
			{"crypto", "J'ai gagné {amount}0 en une semaine avec {coin} 💰💰 demande-moi comment ! {link} {brand} #crypto"},
			{"contest", "🎁 CONCOURS : gagne un voyage {brand} GRATUIT, il suffit de [cliquer|t'inscrire] ici {link} 🎁"},
		},
		Crisis: {
			{"intoxication", "[Intoxication alimentaire|Intoxiqué·es|Malades toute la nuit] après un {item} du {cafe} de {station}, on est [3|4|plusieurs] dans le même cas {emo_sad} {brand} #intoxication"},
			{"accident", "[Accident|Incident grave|Collision] [en gare de|à] {station}, le {train} [évacué|arrêté en pleine voie], [des blessés ?|on voit les pompiers] {brand} #accident"},
			{"boycott", "[#BoycottVelora|Boycott de {brand}|#boycott] [après ce qui s'est passé à {station}|pour la façon dont ils traitent leurs agents|jusqu'à ce qu'ils s'excusent] {brand} [partagez|RT] {emo_angry}"},
			{"breach", "{brand} [fuite de données|data breach] ?? J'ai reçu un mail de phishing avec mon numéro de dossier {ref} et mon nom, [expliquez-vous|c'est grave] #fuitededonnées"},
		},
		Competitor: {
			{"compare", "{comp} vs {brand} pour {station} → {dest} : [{comp} moins cher|{brand} plus ponctuel|même galère des deux côtés] {emo_q}"},
			{"competitor", "{comp} [en retard aussi|supprime aussi des trains|augmente ses prix aussi] [aujourd'hui|ce matin], [au moins {brand} prévient|même combat que {brand}] {tag}"},
			{"competitor", "[Testé|Essayé] {comp} [pour la première fois|ce week-end] entre {city} et {dest}, [pas mal|franchement mieux que {brand}|pareil que {brand}]"},
		},
		Chatter: {
			{"travel", "[Dans le|En route dans le] {train} vers {dest}, [bonne journée à tous|petit café et c'est parti|paysage magnifique] {emo_happy} {brand}"},
			{"cafe", "{item} + {item} au {cafe} avant le train, [rituel du vendredi|c'est ça le bonheur|petit plaisir] {tag}"},
			{"travel", "[Retour|Départ] [à|de] {station} avec {brand}, [à bientôt|direction {dest}|week-end mérité] {tag}"},
			{"news", "{brand} [ouvre|annonce] [une nouvelle ligne|un nouveau {cafe}|des trains de nuit] [vers {dest}|à {station}], [à voir|intéressant]"},
		},
	},
	"en": {
		Complaint: {
			{"delay", "{brand} [another|yet another|ANOTHER] {delay} delay on the {train} {station} → {dest}, [are you kidding me|unbelievable|thanks for nothing|I give up] {emo_angry}"},
			{"delay", "[Stuck|Stranded] at {station} since {time}, zero info about the {train}. {brand} [any update??|care to explain?|hello??] {emo_angry}"},
			{"delay", "{delay} late, [missed my connection|missed my meeting|missed my flight] in {dest}. Thanks {brand} {emo_angry} {tag}"},
			{"cancellation", "{brand} the {time} {train} [cancelled|got cancelled] with [no warning|no explanation|no text], how am I supposed to get to {dest}?? {emo_angry}"},
			{"cancellation", "[Train cancelled|Cancelled again] at {station} {day}, [second|third|fourth] time this month. {brand} [this is a joke|get it together] {tag}"},
			{"refund", "{brand} still waiting for my refund ({amount}) for the cancelled {train}, booking {ref}, [3 weeks now|over a month|2 months and counting] {emo_angry}"},
			{"refund", "Refund claim [rejected|ignored|lost] for a {delay} delay. Booking {ref}. {brand} [explain please|this is not ok|I'll go to the ombudsman]"},
			{"luggage", "{brand} [my suitcase|my bag|my luggage] [went missing|is lost|vanished] between {station} and {dest}, [nobody knows anything|lost & found won't answer] {emo_sad}"},
			{"staff", "{staff} was [incredibly rude|so rude|shouting at passengers] at {station}. {brand} [unacceptable|is this your customer service?|really disappointed] {emo_angry}"},
			{"wifi", "The wifi on the {train} [never works|is useless|keeps dropping], {brand} [can't work at all|and I paid for first class|it's 2026 ffs] {emo_angry}"},
			{"app", "[{brand} your app|The {brand} app|{brand} the app] [crashed|froze|keeps crashing] [at checkout|when opening my ticket|after the update], [got fined {amount}|can't book anything|ticket gone] {emo_angry}"},
			{"app", "{brand} your app charged me [twice|2x|{amount}] for the same ticket, order {ref} {emo_angry}"},
			{"price", "{amount} for {station} → {dest} [on a Tuesday|off-peak|booked a month ahead]?? {brand} [are you serious|daylight robbery|prices are insane] {emo_angry} {tag}"},
			{"cafe", "{amount} for a [cold|stale|sad] {item} at the {cafe} in {station}. {brand} [ridiculous|no thanks|come on] {emo_angry}"},
			{"cleanliness", "Toilets [blocked|filthy|out of order] on the whole {train}, coach {n} is [disgusting|a mess]. {brand} {emo_angry}"},
			{"overcrowding", "Standing since {station} on the {train}, [no seats|overbooked|coach {n} missing] after paying {amount}. {brand} {emo_angry}"},
			{"accessibility", "{brand} [lift broken|no ramp|no assistance] at {station}, I couldn't board the {train} in my wheelchair. [Unacceptable|Shameful] {emo_angry}"},
		},
		Question: {
			{"schedule", "{brand} [hi|hello|hey], is the {time} {train} {station} → {dest} running [tomorrow|this weekend|{day}]? {emo_q}"},
			{"schedule", "Anyone know if {brand} trains to {dest} are disrupted [today|tonight|{day}]? {emo_q}"},
			{"ticket", "{brand} can I [change|exchange|cancel] a [Saver|Flex|Liberté] ticket after departure? Booking {ref}"},
			{"ticket", "[Hi|Hello] {brand}, my ticket doesn't show in the app, what do I do at the ticket check? {emo_q}"},
			{"luggage", "{brand} [how many bags|what luggage size|can I bring a bike] [are allowed|is allowed|] on the {train}? {emo_q}"},
			{"accessibility", "{brand} how do I book wheelchair assistance at {station} for the {time} {train}? Thanks"},
			{"cafe", "What time does the {cafe} at {station} open [on Sundays|in the morning|{day}]? {brand}"},
			{"refund", "{brand} am I entitled to compensation for a {delay} delay on the {train}? Booking {ref}"},
			{"pets", "{brand} can my [dog|cat] travel with me to {dest}? Does it need a ticket?"},
		},
		Praise: {
			{"staff", "Huge thanks to the [conductor|crew|staff] on the {train} {station} → {dest}, [so kind|lovely|amazing] with my [kids|mum|grandad] {emo_happy} {brand}"},
			{"punctuality", "{station} → {dest} [right on time|2 min early|smooth as anything], {brand} [well done|love it|thank you] {emo_happy}"},
			{"cafe", "The {item} at the {cafe} in {station} [is unreal|is perfect|saved my morning] {emo_happy} {tag}"},
			{"comfort", "[Such a comfy|Really pleasant|Quiet] ride with {brand}, working wifi and a plug at every seat {emo_happy}"},
			{"service", "{brand} [refund in 48h|quick reply from your support|booking {ref} sorted in a day], [thanks|hats off|nice one] {emo_happy}"},
		},
		Purchase: {
			{"ticket", "[Looking for|Need] a ticket {station} → {dest} for [Friday|this weekend|the holidays], any {brand} [deals|promo codes|cheap fares]? {emo_q}"},
			{"pass", "[Thinking of getting|About to buy|Going to get] the {brand} [Liberté|Youth|Weekend] pass for my {city} – {dest} trips, worth it?"},
			{"ticket", "[Booked|Bought] my {brand} tickets to {dest} in first class, {amount} return, can't wait {emo_happy}"},
			{"pass", "{brand} how much is the [Youth|Senior|Advantage] card? I travel to {dest} [every month|a lot]"},
		},
		Churn: {
			{"competitor", "[Done with|Finished with|Over] {brand}, switching to {comp}. [One {delay} delay too many|Too many delays|Too expensive for this] {emo_angry}"},
			{"subscription", "Cancelling my {brand} subscription [tomorrow|this month|today], {comp} is [cheaper|more reliable|actually on time] {emo_angry}"},
			{"general", "[Never again|Last trip with] {brand}. [After this {train}|After a {delay} delay|After booking {ref}], [bye|I'm out] {emo_angry} {tag}"},
			{"competitor", "{brand} you just lost [a customer|a family of 4 customers]. {comp} from now on for {dest} {emo_angry}"},
		},
		Spam: {
			{"followers", "🚀 [Get|Buy] [10K|50K|100K] free followers in 24h!! DM us or click here 👉 {link} {tag} {brand}"},
			{"crypto", "Made {amount}0 in a week with {coin} 💰💰 ask me how! {link} {brand} #crypto #passiveincome"},
			{"contest", "🎁 GIVEAWAY: win a FREE {brand} trip, just [click|sign up] here {link} 🎁 [#giveaway|#win]"},
			{"promo", "Cheap {brand} tickets 70% OFF 🔥 only today at {link} [#travel|#deals]"},
		},
		Crisis: {
			{"intoxication", "[Food poisoning|Sick all night] after a {item} from the {cafe} at {station}, [3|4|several] of us [same symptoms|ended up in A&E] {emo_sad} {brand}"},
			{"accident", "[Accident|Serious accident|Train accident] at {station}, the {train} [evacuated|stopped on the tracks], [injuries?|fire brigade everywhere] {brand}"},
			{"boycott", "[#BoycottVelora|Boycott {brand}|#boycott] [after what happened at {station}|for how they treat their staff|until they apologise] {brand} [share this|RT] {emo_angry}"},
			{"breach", "{brand} [data breach|data leak]?? Got a phishing email with my booking {ref} and my name, [explain yourselves|this is serious] #databreach"},
		},
		Competitor: {
			{"compare", "{comp} vs {brand} for {station} → {dest}: [{comp} cheaper|{brand} more punctual|same mess both ways] {emo_q}"},
			{"competitor", "{comp} [late as well|cancelling trains too|raising prices too] [today|this morning], [at least {brand} tells you|same as {brand}] {tag}"},
			{"competitor", "Tried {comp} [for the first time|this weekend] between {city} and {dest}, [not bad|honestly better than {brand}|same as {brand}]"},
		},
		Chatter: {
			{"travel", "On the {train} to {dest}, [have a good day all|coffee and off we go|stunning views] {emo_happy} {brand}"},
			{"cafe", "{item} + {item} at the {cafe} before the train, [Friday ritual|pure joy|little treat] {tag}"},
			{"travel", "[Back|Leaving] [to|from] {station} with {brand}, [see you soon|off to {dest}|weekend earned] {tag}"},
			{"news", "{brand} [opens|announces] [a new route|a new {cafe}|night trains] [to {dest}|at {station}], [interesting|nice]"},
		},
	},
	"es": {
		Complaint: {
			{"delay", "{brand} [otra vez|OTRA VEZ] {delay} de retraso en el {train} {station} → {dest}, [es una broma?|increíble|gracias por nada] {emo_angry}"},
			{"cancellation", "{brand} el {train} de las {time} cancelado sin aviso, ¿cómo llego a {dest}? {emo_angry}"},
			{"refund", "{brand} sigo esperando el reembolso ({amount}) del {train} cancelado, reserva {ref} {emo_angry}"},
			{"luggage", "{brand} mi maleta [ha desaparecido|se perdió] entre {station} y {dest}, nadie sabe nada {emo_sad}"},
			{"wifi", "El wifi del {train} no funciona nunca, {brand} imposible trabajar {emo_angry}"},
		},
		Question: {
			{"schedule", "{brand} hola, ¿el {train} de las {time} a {dest} circula [mañana|este fin de semana]? {emo_q}"},
			{"luggage", "{brand} ¿cuántas maletas se pueden llevar en el {train}? {emo_q}"},
		},
		Praise: {
			{"staff", "Gracias al personal del {train} {station} → {dest}, [muy amables|geniales] {emo_happy} {brand}"},
			{"cafe", "El {item} del {cafe} en {station} [está buenísimo|es perfecto] {emo_happy}"},
		},
		Purchase: {
			{"ticket", "Busco billete {station} → {dest} para el [viernes|finde], ¿alguna oferta {brand}? {emo_q}"},
		},
		Churn: {
			{"competitor", "Se acabó {brand}, me paso a {comp}. [Demasiados retrasos|Demasiado caro] {emo_angry}"},
		},
		Spam: {
			{"followers", "🚀 [10K|50K] seguidores GRATIS en 24h!! 👉 {link} {brand}"},
		},
		Crisis: {
			{"intoxication", "Intoxicación alimentaria después de un {item} del {cafe} en {station}, varios enfermos {emo_sad} {brand}"},
		},
		Competitor: {
			{"compare", "{comp} o {brand} para ir a {dest}? [{comp} más barato|{brand} más puntual] {emo_q}"},
		},
		Chatter: {
			{"travel", "En el {train} hacia {dest}, [buen día a todos|qué paisaje] {emo_happy} {brand}"},
		},
	},
	"de": {
		Complaint: {
			{"delay", "{brand} [schon wieder|SCHON WIEDER] {delay} Verspätung im {train} {station} → {dest}, [ernsthaft?|danke für nichts|unglaublich] {emo_angry}"},
			{"cancellation", "{brand} der {train} um {time} [gestrichen|ausgefallen] ohne Info, wie komme ich nach {dest}? {emo_angry}"},
			{"refund", "{brand} warte immer noch auf meine Erstattung ({amount}) für den ausgefallenen {train}, Buchung {ref} {emo_angry}"},
			{"wifi", "WLAN im {train} funktioniert mal wieder nicht, {brand} [so kann man nicht arbeiten|peinlich] {emo_angry}"},
			{"staff", "{staff} war in {station} [extrem unfreundlich|sehr unhöflich]. {brand} [inakzeptabel|enttäuschend] {emo_angry}"},
		},
		Question: {
			{"schedule", "{brand} hallo, fährt der {train} um {time} nach {dest} [morgen|am Wochenende]? {emo_q}"},
			{"luggage", "{brand} darf ich ein Fahrrad im {train} mitnehmen? {emo_q}"},
		},
		Praise: {
			{"punctuality", "{station} → {dest} [pünktlich auf die Minute|ganz entspannt], {brand} [danke|super] {emo_happy}"},
			{"cafe", "Der {item} im {cafe} in {station} ist [klasse|perfekt] {emo_happy}"},
		},
		Purchase: {
			{"ticket", "Suche ein Ticket {station} → {dest} für [Freitag|das Wochenende], gibt es Angebote bei {brand}? {emo_q}"},
		},
		Churn: {
			{"competitor", "Schluss mit {brand}, ich wechsle zu {comp}. [Zu viele Verspätungen|Zu teuer] {emo_angry}"},
		},
		Spam: {
			{"followers", "🚀 GRATIS [10K|50K] Follower in 24h!! 👉 {link} {brand}"},
		},
		Crisis: {
			{"breach", "{brand} Datenleck?? Phishing-Mail mit meiner Buchungsnummer {ref} bekommen, das ist ernst #datenleck"},
		},
		Competitor: {
			{"compare", "{comp} oder {brand} nach {dest}? [{comp} ist billiger|{brand} ist pünktlicher] {emo_q}"},
		},
		Chatter: {
			{"travel", "Im {train} nach {dest}, [schönen Tag euch|Kaffee und los] {emo_happy} {brand}"},
		},
	},
	"it": {
		Complaint: {
			{"delay", "{brand} [ancora|ANCORA] {delay} di ritardo sul {train} {station} → {dest}, [è uno scherzo?|incredibile|grazie di niente] {emo_angry}"},
			{"cancellation", "{brand} il {train} delle {time} cancellato senza avviso, come arrivo a {dest}? {emo_angry}"},
			{"refund", "{brand} aspetto ancora il rimborso ({amount}) del {train} cancellato, prenotazione {ref} {emo_angry}"},
			{"luggage", "{brand} la mia valigia è sparita tra {station} e {dest}, nessuno sa niente {emo_sad}"},
		},
		Question: {
			{"schedule", "{brand} ciao, il {train} delle {time} per {dest} parte [domani|nel weekend]? {emo_q}"},
			{"accessibility", "{brand} come prenoto l'assistenza per sedia a rotelle a {station}? {emo_q}"},
		},
		Praise: {
			{"staff", "Grazie al personale del {train} {station} → {dest}, [gentilissimi|fantastici] {emo_happy} {brand}"},
		},
		Purchase: {
			{"ticket", "Cerco un biglietto {station} → {dest} per [venerdì|il weekend], offerte {brand}? {emo_q}"},
		},
		Churn: {
			{"competitor", "Basta {brand}, passo a {comp}. [Troppi ritardi|Troppo caro] {emo_angry}"},
		},
		Spam: {
			{"followers", "🚀 [10K|50K] follower GRATIS in 24h!! 👉 {link} {brand}"},
		},
		Crisis: {
			{"accident", "Incidente a {station}, il {train} evacuato, [feriti?|pompieri ovunque] {brand}"},
		},
		Competitor: {
			{"compare", "{comp} o {brand} per {dest}? [{comp} costa meno|{brand} più puntuale] {emo_q}"},
		},
		Chatter: {
			{"travel", "Sul {train} per {dest}, [buona giornata|che panorama] {emo_happy} {brand}"},
		},
	},
}

// followUpSet holds the follow-up templates of one language.
type followUpSet struct{ self, brand []string }

// followUps holds what an author adds to a conversation: after their own
// post (self) or in answer to Velora's reply (brand).
var followUps = map[string]followUpSet{
	"fr": {
		self: []string{
			"[Toujours|Encore|Et toujours] pas de réponse {brand} ? [{emo_angry}|😤|...]",
			"[Précision|PS|Et en plus] : c'était le {train} de {time}, voiture {n}",
			"Mon numéro de dossier : {ref}",
			"[Mise à jour|Update] : [maintenant {delay} de retard|toujours bloqué·e à {station}|on repart enfin] {emo_sad}",
			"[Personne|Y a quelqu'un] chez {brand} ?? {emo_q}",
		},
		brand: []string{
			"[Merci|Merci beaucoup|Merci pour votre réponse], [je vous envoie un DM|DM envoyé|c'est fait] {emo_happy}",
			"[Ça ne règle rien|Vous ne répondez pas à la question|Réponse copiée-collée], [je veux être remboursé·e|je veux une vraie solution] {emo_angry}",
			"[D'accord|Ok|Ok merci], dossier {ref}, [j'attends votre retour|je patiente]",
			"[Toujours rien reçu|Rien depuis votre message] [depuis {day}|depuis 3 jours] {emo_angry}",
			"[Super|Parfait], [c'est réglé|problème résolu], merci {brand} {emo_happy}",
		},
	},
	"en": {
		self: []string{
			"[Still|Still no|And still no] reply {brand}? [{emo_angry}|🙄|...]",
			"[Also|PS|To be clear]: it was the {time} {train}, coach {n}",
			"My booking ref: {ref}",
			"[Update|UPDATE]: [now {delay} late|still stuck at {station}|finally moving] {emo_sad}",
			"[Anyone|Is anyone] at {brand} reading this?? {emo_q}",
		},
		brand: []string{
			"[Thanks|Thank you|Thanks for getting back], [DM sent|sent you a DM|done] {emo_happy}",
			"[That doesn't help|You didn't answer my question|Copy-paste reply], [I want a refund|I want an actual fix] {emo_angry}",
			"[OK|Alright|OK thanks], booking {ref}, [waiting to hear back|will wait]",
			"[Still nothing|Nothing since your message], [3 days now|2 days now|a week now] {emo_angry}",
			"[Great|Perfect], [sorted|all fixed], thanks {brand} {emo_happy}",
		},
	},
	"es": {
		self:  []string{"¿Sigue sin respuesta {brand}? {emo_angry}", "Mi número de reserva: {ref}"},
		brand: []string{"Gracias, [te escribo por DM|DM enviado] {emo_happy}", "Eso no resuelve nada, quiero un reembolso {emo_angry}"},
	},
	"de": {
		self:  []string{"Immer noch keine Antwort {brand}? {emo_angry}", "Meine Buchungsnummer: {ref}"},
		brand: []string{"Danke, [DM ist raus|hab euch geschrieben] {emo_happy}", "Das hilft mir nicht, ich will eine Erstattung {emo_angry}"},
	},
	"it": {
		self:  []string{"Ancora nessuna risposta {brand}? {emo_angry}", "Il mio codice prenotazione: {ref}"},
		brand: []string{"Grazie, [vi scrivo in DM|DM inviato] {emo_happy}", "Non risolve niente, voglio un rimborso {emo_angry}"},
	},
}

// editNotes are appended to a post when its author edits it.
var editNotes = map[string][]string{
	"fr": {"\n\nEDIT : [c'était le {train}|{delay} au final|toujours aucune nouvelle]", " (édit : [faute de frappe|précision : {station}])", "\n\n[Mise à jour|MAJ] : [réglé, merci|toujours pas réglé] {emo_q}"},
	"en": {"\n\nEDIT: [it was the {train}|{delay} in the end|still no news]", " (edit: [typo|I meant {station}])", "\n\n[Update|UPD]: [sorted, thanks|still not sorted] {emo_q}"},
	"es": {"\n\nEDITO: [era el {train}|al final {delay}]"},
	"de": {"\n\nEDIT: [es war der {train}|am Ende {delay}]"},
	"it": {"\n\nEDIT: [era il {train}|alla fine {delay}]"},
}

// cafeItems are what the Velora Cafés sell.
var cafeItems = map[string][]string{
	"fr": {"croissant", "pain au chocolat", "cappuccino", "café", "sandwich jambon-beurre", "croque-monsieur", "wrap poulet", "salade César", "muffin", "thé", "chocolat chaud", "jus d'orange"},
	"en": {"croissant", "cappuccino", "flat white", "coffee", "ham sandwich", "toastie", "chicken wrap", "Caesar salad", "muffin", "tea", "hot chocolate", "orange juice"},
	"es": {"cruasán", "café con leche", "bocadillo", "zumo de naranja"},
	"de": {"Croissant", "Cappuccino", "Kaffee", "Sandwich"},
	"it": {"cornetto", "cappuccino", "panino", "caffè"},
}

var staffRoles = map[string][]string{
	"fr": {"Le contrôleur", "La contrôleuse", "L'agent au guichet", "Un agent de quai", "La serveuse du Velora Café", "Le chef de bord"},
	"en": {"The conductor", "The ticket inspector", "The guy at the ticket desk", "A platform agent", "The barista at the Velora Café", "The train manager"},
	"es": {"El revisor", "La taquillera"},
	"de": {"Der Schaffner", "Die Zugbegleiterin", "Der Mitarbeiter am Schalter"},
	"it": {"Il controllore", "Il capotreno"},
}

var days = map[string][]string{
	"fr": {"ce matin", "hier soir", "lundi", "mardi", "vendredi", "dimanche", "hier", "cet après-midi"},
	"en": {"this morning", "last night", "on Monday", "on Tuesday", "on Friday", "on Sunday", "yesterday", "this afternoon"},
	"es": {"esta mañana", "ayer", "el lunes", "el viernes"},
	"de": {"heute Morgen", "gestern", "am Montag", "am Freitag"},
	"it": {"stamattina", "ieri", "lunedì", "venerdì"},
}

var hashtags = map[string][]string{
	"fr": {"#Velora", "#train", "#retard", "#galère", "#voyage", "#grève", "#mobilité", "#ferroviaire", "#TGV", "#vacances", "#Paris", "#Lyon", "#Marseille", "#Lille", "#Bruxelles", "#café"},
	"en": {"#Velora", "#train", "#travel", "#delay", "#commute", "#rail", "#trainlife", "#Paris", "#Europe", "#coffee", "#slowtravel"},
	"es": {"#Velora", "#tren", "#viaje"},
	"de": {"#Velora", "#Bahn", "#Zug", "#Reisen"},
	"it": {"#Velora", "#treno", "#viaggio"},
}

var (
	emoAngry = []string{"😡", "🤬", "😤", "🙄", "👎", "😠", "🤡", "💀", "!!!", ">:("}
	emoHappy = []string{"😍", "🙏", "👏", "❤️", "😊", "🥰", "☕", "✨", "👍", "💯", ":)"}
	emoSad   = []string{"😢", "😭", "😞", "😩", "🥲", ":("}
	emoQ     = []string{"🤔", "🙏", "❓", "😅", ""}
	coins    = []string{"$VELO", "BitProfit", "MoonCoin", "Solaris AI", "QuantumX"}
	domains  = []string{"bit.ly/", "tinyurl.com/", "free-followers.example/", "cryptowin.example/", "gift-velora.example/"}
)
