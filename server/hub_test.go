package server

import (
	"reflect"
	"testing"

	"blog/data"
	"blog/ui"

	tea "github.com/charmbracelet/bubbletea"
)

// Events that queued while a program was busy reach it as one message, in
// order, and whatever is not an event keeps its place between them.
func TestCoalesceKeepsOrder(t *testing.T) {
	ev := func(id int64) ui.EventMsg {
		return ui.EventMsg(data.Event{Kind: data.CommentAdded, Comment: data.Comment{ID: id}})
	}
	quit := tea.QuitMsg{}
	got := coalesce([]tea.Msg{ev(1), ev(2), ev(3), quit, ev(4), quit, ev(5), ev(6)})
	want := []tea.Msg{
		ui.EventsMsg{data.Event(ev(1)), data.Event(ev(2)), data.Event(ev(3))},
		quit,
		ev(4),
		quit,
		ui.EventsMsg{data.Event(ev(5)), data.Event(ev(6))},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("coalesce:\n got %#v\nwant %#v", got, want)
	}
	if one := coalesce([]tea.Msg{ev(7)}); !reflect.DeepEqual(one, []tea.Msg{ev(7)}) {
		t.Errorf("one event: %#v", one)
	}
}
