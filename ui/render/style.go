package render

import (
	"strings"

	"github.com/alecthomas/chroma/v2"
	chromastyles "github.com/alecthomas/chroma/v2/styles"
	"github.com/charmbracelet/glamour/ansi"
	"github.com/charmbracelet/glamour/styles"
	"github.com/muesli/termenv"
)

// Style is what a client's terminal can show.
type Style struct {
	Profile termenv.Profile // TrueColor, ANSI256, ANSI or Ascii (NO_COLOR, pipes)
	Dark    bool            // the client's background is dark
}

// normal folds styles that render alike into one cache key.
func (st Style) normal() Style {
	if st.Profile < termenv.TrueColor || st.Profile > termenv.Ascii {
		st.Profile = termenv.Ascii
	}
	if st.Profile == termenv.Ascii {
		st.Dark = false // plain text looks the same on any background
	}
	return st
}

// Glamour registers one global chroma theme, "charm", from whichever style
// renders code first, so light and dark readers would share the first one's
// colours. We register a theme per style ourselves and point glamour at it.
var (
	darkConfig  = glamourConfig(styles.DarkStyleConfig, "blog-dark")
	lightConfig = glamourConfig(styles.LightStyleConfig, "blog-light")
	plainConfig = glamourConfig(styles.NoTTYStyleConfig, "")
)

// config returns the glamour style for st, already normalised.
func (st Style) config() ansi.StyleConfig {
	switch {
	case st.Profile == termenv.Ascii:
		return plainConfig
	case st.Dark:
		return darkConfig
	default:
		return lightConfig
	}
}

// chromaFormatter matches code highlighting to the client's colours;
// glamour's default, terminal256, would send 256 colours to 16-colour terminals.
func (st Style) chromaFormatter() string {
	switch st.Profile {
	case termenv.TrueColor:
		return "terminal16m"
	case termenv.ANSI:
		return "terminal16"
	default:
		return "terminal256"
	}
}

// glamourConfig copies a glamour style without the document's margin and
// blank first and last lines: the reader UI places the text itself, and on a
// narrow terminal every column counts. theme names the chroma theme made
// from the style's code colours.
func glamourConfig(c ansi.StyleConfig, theme string) ansi.StyleConfig {
	zero := uint(0)
	c.Document.Margin = &zero
	c.Document.BlockPrefix = ""
	c.Document.BlockSuffix = ""
	if ch := c.CodeBlock.Chroma; ch != nil && theme != "" {
		chromastyles.Register(chroma.MustNewStyle(theme, chromaEntries(ch)))
		c.CodeBlock.Theme = theme
		c.CodeBlock.Chroma = nil
	}
	return c
}

func chromaEntries(ch *ansi.Chroma) chroma.StyleEntries {
	return chroma.StyleEntries{
		chroma.Text:                chromaStyle(ch.Text),
		chroma.Error:               chromaStyle(ch.Error),
		chroma.Comment:             chromaStyle(ch.Comment),
		chroma.CommentPreproc:      chromaStyle(ch.CommentPreproc),
		chroma.Keyword:             chromaStyle(ch.Keyword),
		chroma.KeywordReserved:     chromaStyle(ch.KeywordReserved),
		chroma.KeywordNamespace:    chromaStyle(ch.KeywordNamespace),
		chroma.KeywordType:         chromaStyle(ch.KeywordType),
		chroma.Operator:            chromaStyle(ch.Operator),
		chroma.Punctuation:         chromaStyle(ch.Punctuation),
		chroma.Name:                chromaStyle(ch.Name),
		chroma.NameBuiltin:         chromaStyle(ch.NameBuiltin),
		chroma.NameTag:             chromaStyle(ch.NameTag),
		chroma.NameAttribute:       chromaStyle(ch.NameAttribute),
		chroma.NameClass:           chromaStyle(ch.NameClass),
		chroma.NameConstant:        chromaStyle(ch.NameConstant),
		chroma.NameDecorator:       chromaStyle(ch.NameDecorator),
		chroma.NameException:       chromaStyle(ch.NameException),
		chroma.NameFunction:        chromaStyle(ch.NameFunction),
		chroma.NameOther:           chromaStyle(ch.NameOther),
		chroma.Literal:             chromaStyle(ch.Literal),
		chroma.LiteralNumber:       chromaStyle(ch.LiteralNumber),
		chroma.LiteralDate:         chromaStyle(ch.LiteralDate),
		chroma.LiteralString:       chromaStyle(ch.LiteralString),
		chroma.LiteralStringEscape: chromaStyle(ch.LiteralStringEscape),
		chroma.GenericDeleted:      chromaStyle(ch.GenericDeleted),
		chroma.GenericEmph:         chromaStyle(ch.GenericEmph),
		chroma.GenericInserted:     chromaStyle(ch.GenericInserted),
		chroma.GenericStrong:       chromaStyle(ch.GenericStrong),
		chroma.GenericSubheading:   chromaStyle(ch.GenericSubheading),
		chroma.Background:          chromaStyle(ch.Background),
	}
}

// chromaStyle writes a glamour primitive as a chroma style entry, as glamour does.
func chromaStyle(p ansi.StylePrimitive) string {
	var parts []string
	if p.Color != nil {
		parts = append(parts, *p.Color)
	}
	if p.BackgroundColor != nil {
		parts = append(parts, "bg:"+*p.BackgroundColor)
	}
	for _, f := range []struct {
		on   *bool
		name string
	}{{p.Italic, "italic"}, {p.Bold, "bold"}, {p.Underline, "underline"}} {
		if f.on != nil && *f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, " ")
}
