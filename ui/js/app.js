document.getElementById("app").textContent = "gnomon";
