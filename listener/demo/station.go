package demo

// station is a Velora station, at its real coordinates (the station
// building's centre, WGS84).
type station struct {
	id       string
	lat, lon float64
	// names by language; "" falls back to the French name.
	names map[string][]string
	city  map[string]string
}

// stations are the stations where Velora runs trains, shops and a Velora Café.
var stations = []station{
	{
		id: "paris-gare-de-lyon", lat: 48.8443, lon: 2.3744,
		names: map[string][]string{
			"fr": {"Paris Gare de Lyon", "Gare de Lyon", "gare de Lyon", "Paris-Gare-de-Lyon"},
			"en": {"Paris Gare de Lyon", "Gare de Lyon", "Paris GdL"},
			"de": {"Paris Gare de Lyon"}, "es": {"París Gare de Lyon"}, "it": {"Parigi Gare de Lyon"},
		},
		city: map[string]string{"fr": "Paris", "en": "Paris", "de": "Paris", "es": "París", "it": "Parigi"},
	},
	{
		id: "lyon-part-dieu", lat: 45.7606, lon: 4.8596,
		names: map[string][]string{
			"fr": {"Lyon Part-Dieu", "Part-Dieu", "Part Dieu", "Lyon Part Dieu"},
			"en": {"Lyon Part-Dieu", "Part-Dieu"},
			"de": {"Lyon Part-Dieu"}, "es": {"Lyon Part-Dieu"}, "it": {"Lione Part-Dieu"},
		},
		city: map[string]string{"fr": "Lyon", "en": "Lyon", "de": "Lyon", "es": "Lyon", "it": "Lione"},
	},
	{
		id: "lille-europe", lat: 50.6392, lon: 3.0756,
		names: map[string][]string{
			"fr": {"Lille Europe", "Lille-Europe", "gare Lille Europe"},
			"en": {"Lille Europe", "Lille-Europe"},
			"de": {"Lille Europe"}, "es": {"Lille Europe"}, "it": {"Lille Europe"},
		},
		city: map[string]string{"fr": "Lille", "en": "Lille", "de": "Lille", "es": "Lille", "it": "Lille"},
	},
	{
		id: "bruxelles-midi", lat: 50.8357, lon: 4.3365,
		names: map[string][]string{
			"fr": {"Bruxelles-Midi", "Bruxelles Midi", "gare du Midi"},
			"en": {"Brussels-Midi", "Brussels Midi", "Bruxelles-Midi"},
			"de": {"Brüssel-Süd", "Brüssel Midi"}, "es": {"Bruselas-Midi"}, "it": {"Bruxelles-Midi"},
		},
		city: map[string]string{"fr": "Bruxelles", "en": "Brussels", "de": "Brüssel", "es": "Bruselas", "it": "Bruxelles"},
	},
	{
		id: "marseille-saint-charles", lat: 43.3027, lon: 5.3806,
		names: map[string][]string{
			"fr": {"Marseille Saint-Charles", "Saint-Charles", "St-Charles", "Marseille St Charles"},
			"en": {"Marseille Saint-Charles", "Marseille St-Charles"},
			"de": {"Marseille Saint-Charles"}, "es": {"Marsella Saint-Charles"}, "it": {"Marsiglia Saint-Charles"},
		},
		city: map[string]string{"fr": "Marseille", "en": "Marseille", "de": "Marseille", "es": "Marsella", "it": "Marsiglia"},
	},
}

// venueKinds are the places in each station a check-in can name.
var venueKinds = []struct{ id, name string }{
	{"cafe", "Velora Café"},
	{"shop", "Velora Shop"},
	{"lounge", "Velora Lounge"},
	{"hall", ""}, // the station itself
}
