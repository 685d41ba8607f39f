package report

import "html/template"

// matrixTemplate draws a Matrix in the manner of wpt.fyi: a row per
// behaviour, a column per implementation, each cell coloured by its status and
// linking to the failure's trace. The page is self-contained (no network);
// its one script is the toggle that hides the rows where every implementation
// that ran agrees (the CSS does the hiding).
var matrixTemplate = template.Must(template.New("matrix").Funcs(template.FuncMap{
	"statuses": func() []string { return MatrixStatuses },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mpconform matrix</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table.matrix { border-collapse: collapse; }
.matrix th, .matrix td { border: 1px solid #ccc; padding: 3px 8px; }
.matrix thead th { position: sticky; top: 0; background: #f5f5f5; vertical-align: top; }
.matrix td.id { font-family: monospace; }
.matrix td.st { text-align: center; min-width: 7em; }
.matrix td.st a { color: inherit; }
.pass { background: #c8e6c9; }
.fail { background: #ef9a9a; font-weight: bold; }
.xfail { background: #ffe0b2; }
.unsupported { background: #e0e0e0; color: #555; }
.flaky { background: #fff59d; }
.absent { background: #fafafa; color: #999; }
.counts { font-weight: normal; font-size: 85%; text-align: left; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 4px; border: 1px solid #ccc; }
table.only-differ tr.same { display: none; }
</style>
</head>
<body>
<h1>mpconform matrix</h1>
<p>Generated {{.Generated.Format "2006-01-02 15:04 UTC"}}; profile <code>{{.Profile}}</code>{{if .Filter}}, label filter <code>{{.Filter}}</code>{{end}}.
<span id="summary">{{len .Rows}} behaviours × {{len .Impls}} implementations; the implementations differ on {{.Differ}}.</span></p>
<p class="legend">{{range statuses}}<span class="{{.}}">{{.}}</span>{{end}}</p>
<p><label><input type="checkbox" id="only-differ"> only where implementations differ ({{.Differ}})</label></p>
<table class="matrix" id="matrix">
<thead>
<tr><th>behaviour</th><th>profile</th>{{range .Impls}}<th class="impl{{if or .Absent .Error}} absent{{end}}" title="{{.Source}}">{{if .Report}}<a href="{{.Report}}/summary.md">{{.Name}}</a>{{else}}{{.Name}}{{end}}<br><small>{{if .Version}}{{.Version}} ({{.Language}}){{end}}{{if .Seconds}}, {{printf "%.0f" .Seconds}} s{{end}}{{if .Absent}}absent: {{.Absent}}{{end}}{{if .Error}}error: {{.Error}}{{end}}</small>
<div class="counts">{{$t := .Totals}}{{range $s := statuses}}{{with index $t $s}}<span class="{{$s}}">{{.}} {{$s}}</span> {{end}}{{end}}</div></th>{{end}}</tr>
</thead>
<tbody>
{{range .Rows}}<tr data-behaviour="{{.ID}}" class="{{if .Differs}}differs{{else}}same{{end}}"><td class="id">{{.ID}}</td><td>{{.Profile}}</td>{{range .Cells}}<td class="st {{.Status}}"{{if .Message}} title="{{.Message}}"{{end}}>{{if .Trace}}<a class="trace" href="{{.Trace}}">{{.Status}}</a>{{else}}{{.Status}}{{end}}{{if .Vis}} <a class="vis" href="{{.Vis}}">visualisation</a>{{end}}</td>{{end}}</tr>
{{end}}</tbody>
<tfoot>
<tr class="totals"><td colspan="2">totals</td>{{range .Impls}}<td class="counts">{{$t := .Totals}}{{range $s := statuses}}{{with index $t $s}}{{.}} {{$s}}<br>{{end}}{{end}}</td>{{end}}</tr>
</tfoot>
</table>
<script>
(function () {
  var box = document.getElementById("only-differ"), table = document.getElementById("matrix");
  // The page's address keeps the toggle (matrix.html#only-differ), so that a
  // link can show the differences only.
  function apply() {
    table.classList.toggle("only-differ", box.checked);
    history.replaceState(null, "", box.checked ? "#only-differ" : location.pathname + location.search);
  }
  box.checked = location.hash === "#only-differ";
  box.addEventListener("change", apply);
  apply();
  document.body.setAttribute("data-rendered", "yes");
})();
</script>
</body>
</html>
`))
