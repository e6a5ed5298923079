// The after-action report's Print button (a script file: the Content-Security-Policy allows no inline handlers).
document.getElementById("after-action-print").addEventListener("click", () => window.print());
