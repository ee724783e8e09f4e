// The bundle's entry: defining <webui-app> upgrades the element index.html already holds.
import './components/app-root.ts';
