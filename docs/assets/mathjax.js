// MathJax 3 settings for the maths that pymdownx.arithmatex (generic mode) marks up:
// typeset only elements of class "arithmatex", delimited by \( \) inline and \[ \] as blocks.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
