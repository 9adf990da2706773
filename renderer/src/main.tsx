// First import: installs React Fast Refresh in dev from a module instead of the inline script Vite
// would inject, which the page's CSP (script-src 'self') blocks. In a build it is empty.
import '@vitejs/plugin-react/preamble';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
