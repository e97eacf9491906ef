package sources

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigie/vigie/listener"
)

// CheckItem checks an item a connector built against the rules the ingest
// endpoints apply (required fields, sizes, coordinates), by running its JSON
// through the strict ingest decoder. Connectors skip, and count, items that
// fail: a network's odd payload must not put a malformed item in the log.
func CheckItem(it listener.Item) error {
	var (
		raw    []byte
		err    error
		decode func([]byte, bool) ([]listener.Decoded, []listener.Rejection, error)
	)
	switch it.Kind {
	case listener.KindMention:
		if it.Mention == nil {
			return errors.New("mention item without a mention")
		}
		raw, err = json.Marshal([]*listener.Mention{it.Mention})
		decode = listener.DecodeMentions
	case listener.KindCheckIn:
		if it.CheckIn == nil {
			return errors.New("check-in item without a check-in")
		}
		raw, err = json.Marshal([]*listener.CheckIn{it.CheckIn})
		decode = listener.DecodeCheckIns
	case listener.KindTombstone:
		t := it.Tombstone
		if t == nil || t.Source == "" || (t.ID == "" && t.AuthorID == "") {
			return errors.New("tombstone needs a source and an id or an author id")
		}
		if len(t.ID) > listener.MaxIDBytes || len(t.AuthorID) > listener.MaxIDBytes {
			return fmt.Errorf("tombstone id longer than %d bytes", listener.MaxIDBytes)
		}
		return nil
	default:
		return fmt.Errorf("unknown item kind %q", it.Kind)
	}
	if err != nil {
		return fmt.Errorf("encode item: %w", err)
	}
	_, rej, err := decode(raw, false)
	if err != nil {
		return err
	}
	if len(rej) > 0 {
		return errors.New(rej[0].Error)
	}
	return nil
}
