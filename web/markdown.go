package web

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// The code styles for light and dark pages; the stylesheet holds both,
// each under its prefers-color-scheme.
const (
	lightCodeStyle = "github"
	darkCodeStyle  = "github-dark"
	codeClass      = "ch-" // prefix of chroma's class names
)

// codeFormatter writes highlighted code with classes, never inline
// styles, so the strict Content-Security-Policy holds.
var codeFormatter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.ClassPrefix(codeClass))

// newMarkdown is the post renderer: GFM (tables, strikethrough, task
// lists, autolinks) with fenced code highlighted by chroma. Raw HTML in a
// post is dropped (goldmark's default), and table alignment is written as
// an attribute, not a style, again for the policy.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough, extension.Linkify, extension.TaskList,
		),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(codeBlocks{}, 100))),
	)
}

// codeBlocks renders fenced code blocks with chroma.
type codeBlocks struct{}

func (codeBlocks) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderFenced)
}

func renderFenced(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	block := n.(*ast.FencedCodeBlock)
	var code strings.Builder
	lines := block.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		code.Write(seg.Value(src))
	}
	lang := ""
	if block.Info != nil {
		lang = strings.Fields(string(block.Language(src)) + " ")[0]
	}
	lexer := lexers.Get(lang)
	if lexer == nil {
		fmt.Fprintf(w, "<pre class=\"%schroma\"><code>%s</code></pre>\n", codeClass, html.EscapeString(code.String()))
		return ast.WalkSkipChildren, nil
	}
	it, err := chroma.Coalesce(lexer).Tokenise(nil, code.String())
	if err != nil {
		fmt.Fprintf(w, "<pre class=\"%schroma\"><code>%s</code></pre>\n", codeClass, html.EscapeString(code.String()))
		return ast.WalkSkipChildren, nil
	}
	if err := codeFormatter.Format(w, styles.Get(lightCodeStyle), it); err != nil {
		return ast.WalkStop, err
	}
	return ast.WalkSkipChildren, nil
}

// codeCSS is the highlighting's part of the stylesheet.
func codeCSS() string {
	var light, dark bytes.Buffer
	_ = codeFormatter.WriteCSS(&light, styles.Get(lightCodeStyle))
	_ = codeFormatter.WriteCSS(&dark, styles.Get(darkCodeStyle))
	return light.String() + "@media (prefers-color-scheme: dark) {\n" + dark.String() + "}\n"
}
